"""``/v3/users``: list, show, create, update, delete, a user's projects and own password change."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, read_json
from firebrick.api.identity._common import collection, enabled_filter, identity_call, identity_node
from firebrick.api.identity._views import project_view, user_view
from firebrick.api.validation import Schema
from firebrick.domain.identity import projects, users

__all__ = ["change_password", "create", "delete", "index", "show", "update", "user_projects"]

_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "password": {"type": ["string", "null"]},
    "enabled": {"type": "boolean"},
    "domain_id": {"type": ["string", "null"], "maxLength": 64},
    "default_project_id": {"type": ["string", "null"], "maxLength": 64},
    "options": {"type": "object"},
}
_CREATE = Schema(
    {
        "type": "object",
        "required": ["user"],
        "properties": {"user": {"type": "object", "required": ["name"], "properties": _FIELDS}},
    }
)
_UPDATE = Schema(
    {
        "type": "object",
        "required": ["user"],
        "properties": {
            "user": {"type": "object", "minProperties": 1, "properties": {**_FIELDS, "id": {"type": "string"}}}
        },
    }
)
_PASSWORD = Schema(
    {
        "type": "object",
        "required": ["user"],
        "properties": {
            "user": {
                "type": "object",
                "required": ["original_password", "password"],
                "properties": {"original_password": {"type": "string"}, "password": {"type": "string"}},
            }
        },
    }
)


async def index(request: Request) -> Response:
    call = identity_call(request)
    call.authorize("identity:list_users")
    query = request.query_params
    found = users.list_users(call.identity, query.get("name"), query.get("domain_id"), enabled_filter(request))
    return JSONResponse(collection(request, "users", [user_view(call.link(), u) for u in found]))


async def show(request: Request) -> Response:
    call = identity_call(request)
    user_id = request.path_params["user_id"]
    call.authorize("identity:get_user", {"target.user.id": user_id})
    return JSONResponse({"user": user_view(call.link(), users.get_user(call.identity, user_id))})


async def create(request: Request) -> Response:
    call = identity_call(request)
    call.authorize("identity:create_user")
    body = await read_json(request)
    _CREATE.check(body)
    # scrypt is deliberately slow; keep it off the event loop.
    created = await run_in_threadpool(users.create_user, call.identity, body["user"])
    return JSONResponse({"user": user_view(call.link(), created)}, 201)


async def update(request: Request) -> Response:
    call = identity_call(request)
    user_id = request.path_params["user_id"]
    call.authorize("identity:update_user", {"target.user.id": user_id})
    body = await read_json(request)
    _UPDATE.check(body)
    updated = await run_in_threadpool(users.update_user, call.identity, user_id, body["user"])
    return JSONResponse({"user": user_view(call.link(), updated)})


async def delete(request: Request) -> Response:
    call = identity_call(request)
    user_id = request.path_params["user_id"]
    call.authorize("identity:delete_user", {"target.user.id": user_id})
    users.delete_user(call.identity, user_id)
    return empty(204)


async def user_projects(request: Request) -> Response:
    call = identity_call(request)
    user_id = request.path_params["user_id"]
    call.authorize("identity:list_user_projects", {"target.user.id": user_id})
    found = projects.user_projects(call.identity, user_id)
    return JSONResponse(collection(request, "projects", [project_view(call.link(), p) for p in found]))


async def change_password(request: Request) -> Response:
    """As Keystone: no token needed, the original password is the proof."""
    body = await read_json(request)
    _PASSWORD.check(body)
    change = body["user"]
    await run_in_threadpool(
        users.change_password,
        identity_node(request).identity,
        request.path_params["user_id"],
        change["original_password"],
        change["password"],
    )
    return empty(204)

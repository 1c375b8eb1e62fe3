"""``/v3/users``: list, show, create, update, delete, a user's projects and own password change."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._call import off_loop, request_node
from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.identity._common import IdentityCall, collection, enabled_filter, identity_endpoint
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


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:list_users")
    query = request.query_params
    found = users.list_users(call.identity, query.get("name"), query.get("domain_id"), enabled_filter(request))
    return JSONResponse(collection(request, "users", [user_view(call.url(), u) for u in found]))


@identity_endpoint
def show(request: Request, call: IdentityCall) -> Response:
    user_id = request.path_params["user_id"]
    call.authorize("identity:get_user", target={"target.user.id": user_id})
    return JSONResponse({"user": user_view(call.url(), users.get_user(call.identity, user_id))})


@identity_endpoint
def create(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:create_user")
    body = json_body(request)
    _CREATE.check(body)
    created = users.create_user(call.identity, body["user"])
    return JSONResponse({"user": user_view(call.url(), created)}, 201)


@identity_endpoint
def update(request: Request, call: IdentityCall) -> Response:
    user_id = request.path_params["user_id"]
    call.authorize("identity:update_user", target={"target.user.id": user_id})
    body = json_body(request)
    _UPDATE.check(body)
    updated = users.update_user(call.identity, user_id, body["user"])
    return JSONResponse({"user": user_view(call.url(), updated)})


@identity_endpoint
def delete(request: Request, call: IdentityCall) -> Response:
    user_id = request.path_params["user_id"]
    call.authorize("identity:delete_user", target={"target.user.id": user_id})
    users.delete_user(call.identity, user_id)
    return empty(204)


@identity_endpoint
def user_projects(request: Request, call: IdentityCall) -> Response:
    user_id = request.path_params["user_id"]
    call.authorize("identity:list_user_projects", target={"target.user.id": user_id})
    found = projects.user_projects(call.identity, user_id)
    return JSONResponse(collection(request, "projects", [project_view(call.url(), p) for p in found]))


@off_loop
def change_password(request: Request) -> Response:
    """As Keystone: no token needed, the original password is the proof."""
    body = json_body(request)
    _PASSWORD.check(body)
    change = body["user"]
    users.change_password(
        request_node(request).identity,
        request.path_params["user_id"],
        change["original_password"],
        change["password"],
    )
    return empty(204)

"""``/v3/projects``: list, show, create, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, read_json
from firebrick.api.identity._common import collection, enabled_filter, identity_call
from firebrick.api.identity._views import project_view
from firebrick.api.validation import Schema
from firebrick.domain.identity import projects

__all__ = ["create", "delete", "index", "show", "update"]

_ID_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "maxLength": 64}
# Keystone's: a tag is 1-255 characters without "/" or ",", at most 80 of them.
_TAGS = {
    "type": "array",
    "maxItems": 80,
    "items": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"},
}
_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "description": {"type": ["string", "null"]},
    "domain_id": _ID_OR_NULL,
    "parent_id": _ID_OR_NULL,
    "enabled": {"type": "boolean"},
    "is_domain": {"type": "boolean"},
    "tags": _TAGS,
    "options": {"type": "object"},
}
_CREATE = Schema(
    {
        "type": "object",
        "required": ["project"],
        "properties": {"project": {"type": "object", "required": ["name"], "properties": _FIELDS}},
    }
)
_UPDATE = Schema(
    {
        "type": "object",
        "required": ["project"],
        "properties": {
            "project": {"type": "object", "minProperties": 1, "properties": {**_FIELDS, "id": {"type": "string"}}}
        },
    }
)


async def index(request: Request) -> Response:
    call = identity_call(request)
    # Keystone refuses the list to a project user; firebrick has always shown it the user's own projects.
    member = None if call.allowed("identity:list_projects") else call.caller.user_id
    query = request.query_params
    found = projects.list_projects(
        call.identity, query.get("name"), query.get("domain_id"), enabled_filter(request), member_of=member
    )
    return JSONResponse(collection(request, "projects", [project_view(call.link(), p) for p in found]))


async def show(request: Request) -> Response:
    call = identity_call(request)
    project_id = request.path_params["project_id"]
    call.authorize("identity:get_project", {"target.project.id": project_id})
    return JSONResponse({"project": project_view(call.link(), projects.get_project(call.identity, project_id))})


async def create(request: Request) -> Response:
    call = identity_call(request)
    call.authorize("identity:create_project")
    body = await read_json(request)
    _CREATE.check(body)
    created = projects.create_project(call.identity, body["project"])
    return JSONResponse({"project": project_view(call.link(), created)}, 201)


async def update(request: Request) -> Response:
    call = identity_call(request)
    project_id = request.path_params["project_id"]
    call.authorize("identity:update_project", {"target.project.id": project_id})
    body = await read_json(request)
    _UPDATE.check(body)
    updated = projects.update_project(call.identity, project_id, body["project"])
    return JSONResponse({"project": project_view(call.link(), updated)})


async def delete(request: Request) -> Response:
    call = identity_call(request)
    project_id = request.path_params["project_id"]
    call.authorize("identity:delete_project", {"target.project.id": project_id})
    projects.delete_project(call.identity, project_id)
    return empty(204)

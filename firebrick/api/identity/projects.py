"""``/v3/projects``: list, show, create, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.identity._common import IdentityCall, collection, enabled_filter, identity_endpoint
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


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    # Keystone refuses the list to a project user; firebrick has always shown it the user's own projects.
    member = None if call.allowed("identity:list_projects") else call.caller.user_id
    query = request.query_params
    found = projects.list_projects(
        call.identity, query.get("name"), query.get("domain_id"), enabled_filter(request), member_of=member
    )
    return JSONResponse(collection(request, "projects", [project_view(call.url(), p) for p in found]))


@identity_endpoint
def show(request: Request, call: IdentityCall) -> Response:
    project_id = request.path_params["project_id"]
    call.authorize("identity:get_project", target={"target.project.id": project_id})
    return JSONResponse({"project": project_view(call.url(), projects.get_project(call.identity, project_id))})


@identity_endpoint
def create(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:create_project")
    body = json_body(request)
    _CREATE.check(body)
    created = projects.create_project(call.identity, body["project"])
    return JSONResponse({"project": project_view(call.url(), created)}, 201)


@identity_endpoint
def update(request: Request, call: IdentityCall) -> Response:
    project_id = request.path_params["project_id"]
    call.authorize("identity:update_project", target={"target.project.id": project_id})
    body = json_body(request)
    _UPDATE.check(body)
    updated = projects.update_project(call.identity, project_id, body["project"])
    return JSONResponse({"project": project_view(call.url(), updated)})


@identity_endpoint
def delete(request: Request, call: IdentityCall) -> Response:
    project_id = request.path_params["project_id"]
    call.authorize("identity:delete_project", target={"target.project.id": project_id})
    projects.delete_project(call.identity, project_id)
    return empty(204)

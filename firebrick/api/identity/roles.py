"""``/v3/roles``: list, show, create, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.identity._common import IdentityCall, collection, identity_endpoint
from firebrick.api.identity._views import role_view
from firebrick.api.validation import Schema
from firebrick.domain.identity import roles

__all__ = ["create", "delete", "index", "show", "update"]

_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": {"type": ["string", "null"], "maxLength": 255},
    "domain_id": {"type": ["string", "null"], "maxLength": 64},
    "options": {"type": "object"},
}
_CREATE = Schema(
    {
        "type": "object",
        "required": ["role"],
        "properties": {"role": {"type": "object", "required": ["name"], "properties": _FIELDS}},
    }
)
_UPDATE = Schema(
    {
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {"type": "object", "minProperties": 1, "properties": {**_FIELDS, "id": {"type": "string"}}}
        },
    }
)


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:list_roles")
    found = roles.list_roles(call.identity, request.query_params.get("name"), request.query_params.get("domain_id"))
    return JSONResponse(collection(request, "roles", [role_view(call.url(), r) for r in found]))


@identity_endpoint
def show(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:get_role")
    return JSONResponse({"role": role_view(call.url(), roles.get_role(call.identity, request.path_params["role_id"]))})


@identity_endpoint
def create(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:create_role")
    body = json_body(request)
    _CREATE.check(body)
    return JSONResponse({"role": role_view(call.url(), roles.create_role(call.identity, body["role"]))}, 201)


@identity_endpoint
def update(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:update_role")
    body = json_body(request)
    _UPDATE.check(body)
    updated = roles.update_role(call.identity, request.path_params["role_id"], body["role"])
    return JSONResponse({"role": role_view(call.url(), updated)})


@identity_endpoint
def delete(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:delete_role")
    roles.delete_role(call.identity, request.path_params["role_id"])
    return empty(204)

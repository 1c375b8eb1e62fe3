"""``/types`` and ``/types/{id}/extra_specs``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.validation import BOOLEAN, DESCRIPTION, Schema, as_bool
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.views import type_view
from firebrick.domain import volume_types
from firebrick.errors import InvalidInput, NotFound

__all__ = [
    "create",
    "delete",
    "delete_spec",
    "index",
    "show",
    "show_default",
    "show_spec",
    "specs_index",
    "specs_merge",
    "update",
    "update_spec",
]

_SPECS = {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}
_TYPE_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_CREATE = Schema(
    {
        "type": "object",
        "properties": {
            "volume_type": {
                "type": "object",
                "properties": {
                    "name": _TYPE_NAME,
                    "description": DESCRIPTION,
                    "extra_specs": _SPECS,
                    "os-volume-type-access:is_public": BOOLEAN,
                },
                "required": ["name"],
                "additionalProperties": False,
            }
        },
        "required": ["volume_type"],
        "additionalProperties": False,
    }
)
_UPDATE = Schema(
    {
        "type": "object",
        "properties": {
            "volume_type": {
                "type": "object",
                "properties": {"name": _TYPE_NAME, "description": DESCRIPTION, "is_public": BOOLEAN},
                "additionalProperties": False,
            }
        },
        "required": ["volume_type"],
        "additionalProperties": False,
    }
)
_EXTRA_SPECS = Schema(
    {
        "type": "object",
        "properties": {"extra_specs": _SPECS},
        "required": ["extra_specs"],
        "additionalProperties": False,
    }
)
_ONE_SPEC = Schema({**_SPECS, "minProperties": 1, "maxProperties": 1})


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:type_get_all")
    found = volume_types.list_types(call.ports, public_only=not call.caller.is_admin)
    return JSONResponse({"volume_types": [type_view(call, t) for t in found]})


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:type_get")
    found = volume_types.get_type(call.ports, request.path_params["type_id"])
    if not found.is_public and not call.caller.is_admin:
        raise NotFound("VolumeType", found.id, f"Volume type {found.id} could not be found.")
    return JSONResponse({"volume_type": type_view(call, found)})


@volume_endpoint
def show_default(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:type_get")
    body = type_view(call, volume_types.ensure_default_type(call.ports))
    body.pop("os-volume-type-access:is_public")
    return JSONResponse({"volume_type": body})


@volume_endpoint
def create(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _CREATE.check(body)
    call.authorize("volume_extension:types_manage")
    spec = body["volume_type"]
    is_public = as_bool(spec.get("os-volume-type-access:is_public", True))
    created = volume_types.create_type(
        call.ports, spec["name"].strip(), spec.get("description"), is_public, spec.get("extra_specs") or {}
    )
    return JSONResponse({"volume_type": type_view(call, created, with_qos=False)})


@volume_endpoint
def update(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _UPDATE.check(body)
    call.authorize("volume_extension:types_manage")
    spec: dict[str, Any] = body["volume_type"]
    if not spec:
        raise InvalidInput("Specify volume type name, description, is_public or a combination thereof.")
    is_public = as_bool(spec["is_public"]) if "is_public" in spec else None
    updated = volume_types.update_type(
        call.ports, request.path_params["type_id"], spec.get("name"), spec.get("description"), is_public
    )
    return JSONResponse({"volume_type": type_view(call, updated, with_qos=False, with_access=False)})


@volume_endpoint
def delete(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:types_manage")
    volume_types.delete_type(call.ports, request.path_params["type_id"])
    return empty(202)


@volume_endpoint
def specs_index(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:types_extra_specs:index")
    found = volume_types.get_type(call.ports, request.path_params["type_id"])
    return JSONResponse({"extra_specs": type_view(call, found)["extra_specs"]})


@volume_endpoint
def specs_merge(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _EXTRA_SPECS.check(body)
    call.authorize("volume_extension:types_extra_specs:create")
    merged = volume_types.set_extra_specs(call.ports, request.path_params["type_id"], body["extra_specs"])
    return JSONResponse({"extra_specs": merged})


@volume_endpoint
def show_spec(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:types_extra_specs:show")
    found = volume_types.get_type(call.ports, request.path_params["type_id"])
    key = request.path_params["key"]
    if key not in found.extra_specs:
        raise NotFound("VolumeTypeExtraSpecs", key, f"Volume Type {found.id} has no extra specs with key {key}.")
    return JSONResponse({key: found.extra_specs[key]})


@volume_endpoint
def update_spec(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _ONE_SPEC.check(body)
    call.authorize("volume_extension:types_extra_specs:update")
    key = request.path_params["key"]
    if key not in body:
        raise InvalidInput("Request body and URI mismatch")
    volume_types.set_extra_specs(call.ports, request.path_params["type_id"], body)
    return JSONResponse(body)


@volume_endpoint
def delete_spec(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:types_extra_specs:delete")
    volume_types.delete_extra_spec(call.ports, request.path_params["type_id"], request.path_params["key"])
    return empty(202)

"""``/flavors``: list, detail, show; an admin's create and delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.compute.views import flavor_view
from firebrick.api.validation import BOOLEAN, Schema, as_bool
from firebrick.domain.compute import flavors
from firebrick.domain.model import Flavor

__all__ = ["create", "delete", "detail", "index", "show"]

_CREATE = Schema({
    "type": "object",
    "properties": {"flavor": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "id": {"type": ["string", "null"], "maxLength": 255},
            "ram": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
            "vcpus": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
            "disk": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0},
            "os-flavor-access:is_public": BOOLEAN,
            "description": {"type": ["string", "null"], "maxLength": 65535},
        },
        "required": ["name", "ram", "vcpus", "disk"],
    }},
    "required": ["flavor"],
})  # fmt: skip


@compute_endpoint
def index(request: Request, call: ComputeCall) -> Response:
    found = flavors.list_flavors(call.ports, call.caller.is_admin)
    return JSONResponse({"flavors": [flavor_view(call, f, detail=False) for f in found]})


@compute_endpoint
def detail(request: Request, call: ComputeCall) -> Response:
    found = flavors.list_flavors(call.ports, call.caller.is_admin)
    return JSONResponse({"flavors": [flavor_view(call, f, detail=True) for f in found]})


@compute_endpoint
def show(request: Request, call: ComputeCall) -> Response:
    found = flavors.find_flavor(call.ports, request.path_params["flavor_id"])
    return JSONResponse({"flavor": flavor_view(call, found, detail=True)})


@compute_endpoint
def create(request: Request, call: ComputeCall) -> Response:
    call.authorize("os_compute_api:os-flavor-manage:create")
    body = json_body(request)
    _CREATE.check(body)
    spec = body["flavor"]
    wanted = Flavor(
        id=str(spec.get("id") or ""),
        name=spec["name"],
        vcpus=int(spec["vcpus"]),
        ram=int(spec["ram"]),
        disk=int(spec["disk"]),
        is_public=as_bool(spec.get("os-flavor-access:is_public", True)),
        description=spec.get("description"),
    )
    made = flavors.create_flavor(call.ports, wanted)
    return JSONResponse({"flavor": flavor_view(call, made, detail=True)})


@compute_endpoint
def delete(request: Request, call: ComputeCall) -> Response:
    call.authorize("os_compute_api:os-flavor-manage:delete")
    flavors.delete_flavor(call.ports, request.path_params["flavor_id"])
    return empty(202)

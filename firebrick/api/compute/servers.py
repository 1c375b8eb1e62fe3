"""``/servers``: create, list, show, delete, the server actions, ``/ips``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.compute.views import server_detail, server_summary
from firebrick.api.errors import HttpFault
from firebrick.api.validation import BOOLEAN, Schema, as_bool
from firebrick.api.volume.listing import page_from, truthy
from firebrick.domain.compute import console, query
from firebrick.domain.compute.create import BootVolume, CreateRequest, request_create
from firebrick.domain.compute.delete import request_delete
from firebrick.domain.compute.lock import set_locked
from firebrick.domain.compute.power import request_power
from firebrick.domain.compute.shelve import request_shelve, request_unshelve
from firebrick.domain.model import Server

__all__ = ["action", "create", "delete", "detail", "index", "ips", "show"]

_BDM = {
    "type": "object",
    "properties": {
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["volume", "local"]},
        "uuid": {"type": "string"},
        "boot_index": {"type": ["integer", "string", "null"]},
        "delete_on_termination": BOOLEAN,
        "tag": {"type": "string", "pattern": "^[^,/]*$", "minLength": 1, "maxLength": 60},
    },
}
_COUNT = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}
_CREATE = Schema({
    "type": "object",
    "properties": {"server": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "flavorRef": {"type": ["string", "integer"], "minLength": 1},
            "imageRef": {"type": "string"},
            "availability_zone": {"type": "string"},
            "block_device_mapping_v2": {"type": "array", "items": _BDM},
            "min_count": _COUNT,
            "max_count": _COUNT,
            "return_reservation_id": BOOLEAN,
        },
        "required": ["name", "flavorRef"],
    }},
    "required": ["server"],
})  # fmt: skip
_SORT_KEYS = {k: k for k in ("created_at", "updated_at", "id", "name", "vm_state", "task_state")} | {
    "display_name": "name"
}
_FILTERS = {
    "name": "name~", "status": "vm_state", "image": "image_id", "flavor": "flavor_id",
    "reservation_id": "reservation_id",
}  # fmt: skip
_LOCK = Schema({"type": ["object", "null"], "properties": {"locked_reason": {"type": "string", "maxLength": 255}}})


@compute_endpoint
def create(request: Request, call: ComputeCall) -> Response:
    body = json_body(request)
    _CREATE.check(body)
    spec = body["server"]
    call.authorize("os_compute_api:servers:create")
    volumes = tuple(
        BootVolume(
            volume_id=item["uuid"],
            boot_index=_boot_index(item.get("boot_index")),
            delete_on_termination=as_bool(item.get("delete_on_termination", False)),
            tag=item.get("tag"),
        )
        for item in spec.get("block_device_mapping_v2", [])
        if item.get("source_type") == "volume" and item.get("destination_type", "volume") == "volume"
    )
    wanted = CreateRequest(
        name=spec["name"],
        flavor_ref=str(spec["flavorRef"]),
        image_ref=spec.get("imageRef") or None,
        volumes=volumes,
        availability_zone=spec.get("availability_zone"),
        count=_count(spec),
    )
    servers, admin_pass = request_create(call.ports, call.asked, wanted)
    if as_bool(spec.get("return_reservation_id", False)):
        return JSONResponse({"reservation_id": servers[0].reservation_id}, 202)
    server = servers[0]
    reply = {**server_summary(call, server), "OS-DCF:diskConfig": "MANUAL", "security_groups": [{"name": "default"}]}
    reply["adminPass"] = admin_pass
    del reply["name"]
    return JSONResponse({"server": reply}, 202, headers={"Location": call.url("servers", server.id)})


def _count(spec: dict[str, Any]) -> int:
    """How many servers to make: Nova makes ``max_count`` when it can, and here it always can."""
    low, high = int(spec.get("min_count", 1)), int(spec.get("max_count", spec.get("min_count", 1)))
    if low > high:
        raise HttpFault(400, "min_count must be <= max_count")
    return high


def _boot_index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise HttpFault(400, f"Invalid input for field/attribute boot_index. Value: {value}.") from None


@compute_endpoint
def index(request: Request, call: ComputeCall) -> Response:
    call.authorize("os_compute_api:servers:index")
    return JSONResponse({"servers": [server_summary(call, s) for s in _listing(request, call)]})


@compute_endpoint
def detail(request: Request, call: ComputeCall) -> Response:
    call.authorize("os_compute_api:servers:detail")
    servers = _listing(request, call)
    rendered = [server_detail(call, s, query.server_attachments(call.ports, s)) for s in servers]
    return JSONResponse({"servers": rendered})


def _listing(request: Request, call: ComputeCall) -> list[Server]:
    params = request.query_params
    filters = dict(params)
    if "status" in filters:
        filters["status"] = _vm_state_for(filters["status"])
    page = page_from(filters, _SORT_KEYS, _FILTERS)
    return query.list_servers(call.ports, call.caller, page, truthy(params.get("all_tenants")))


def _vm_state_for(status: str) -> str:
    shown = {"ACTIVE": "active", "SHUTOFF": "stopped", "BUILD": "building", "ERROR": "error",
             "SHELVED_OFFLOADED": "shelved_offloaded", "SHELVED": "shelved", "DELETED": "deleted"}  # fmt: skip
    return shown.get(status.upper(), status.lower())


@compute_endpoint
def show(request: Request, call: ComputeCall) -> Response:
    server = query.show_server(call.ports, call.caller, request.path_params["server_id"])
    call.authorize("os_compute_api:servers:show", server.project_id)
    mappings = query.server_attachments(call.ports, server)
    return JSONResponse({"server": server_detail(call, server, mappings)})


@compute_endpoint
def delete(request: Request, call: ComputeCall) -> Response:
    server = query.show_server(call.ports, call.caller, request.path_params["server_id"])
    call.authorize("os_compute_api:servers:delete", server.project_id)
    request_delete(call.ports, call.asked, server.id)
    return empty(204)


@compute_endpoint
def ips(request: Request, call: ComputeCall) -> Response:
    server = query.show_server(call.ports, call.caller, request.path_params["server_id"])
    call.authorize("os_compute_api:ips:index", server.project_id)
    return JSONResponse({"addresses": {}})  # servers here have no networks


@compute_endpoint
def action(request: Request, call: ComputeCall) -> Response:
    body = json_body(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise HttpFault(400, "Malformed request body")
    [(name, spec)] = body.items()
    server = query.show_server(call.ports, call.caller, request.path_params["server_id"])
    if name in ("os-stop", "os-start", "reboot"):
        operation = {"os-stop": "stop", "os-start": "start", "reboot": "reboot"}[name]
        call.authorize(f"os_compute_api:servers:{operation}", server.project_id)
        request_power(call.ports, call.asked, server.id, operation)
    elif name == "shelve":
        call.authorize("os_compute_api:os-shelve:shelve", server.project_id)
        request_shelve(call.ports, call.asked, server.id)
    elif name == "unshelve":
        call.authorize("os_compute_api:os-shelve:unshelve", server.project_id)
        request_unshelve(call.ports, call.asked, server.id)
    elif name in ("lock", "unlock"):
        _LOCK.check(spec)
        call.authorize(f"os_compute_api:os-lock-server:{name}", server.project_id)
        reason = (spec or {}).get("locked_reason") if call.at_least(73) else None
        set_locked(call.ports, call.asked, server.id, name == "lock", reason)
    elif name == "os-getConsoleOutput":
        return _console(call, server, spec)
    else:
        raise HttpFault(400, f"There is no such action: {name}")
    return empty(202)


_CONSOLE = Schema(
    {"type": "object", "properties": {"length": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"}}}
)


def _console(call: ComputeCall, server: Server, spec: Any) -> Response:
    _CONSOLE.check(spec)
    call.authorize("os_compute_api:os-console-output", server.project_id)
    raw = spec.get("length")
    length = None if raw is None or int(raw) < 0 else int(raw)
    output = console.console_output(call.ports, call.asked, server.id, length)
    return JSONResponse({"output": output})

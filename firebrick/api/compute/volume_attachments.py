"""``/servers/{server_id}/os-volume_attachments``: list, attach, show, update (swap), detach.

The id in the URL is the volume's. Every handler finds the server first (404),
then checks policy, then the body, in Nova's order.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.compute.views import attachment_view
from firebrick.api.errors import HttpFault
from firebrick.api.validation import BOOLEAN, UUID, Schema, as_bool
from firebrick.domain.compute import query
from firebrick.domain.compute.attach import request_attach
from firebrick.domain.compute.detach import request_detach
from firebrick.domain.compute.states import VmState
from firebrick.domain.compute.update import AttachmentUpdate, request_swap, update_attachment
from firebrick.domain.model import Server
from firebrick.errors import Conflict, NotFound

__all__ = ["create", "delete", "index", "show", "update"]

_DEVICE = {"type": ["string", "null"], "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}
_TAG = {"type": "string", "pattern": "^[^,/]*$", "minLength": 1, "maxLength": 60}


def _wrapped(properties: dict[str, Any]) -> Schema:
    inner = {"type": "object", "properties": properties, "required": ["volumeId"], "additionalProperties": False}
    return Schema({
        "type": "object", "properties": {"volumeAttachment": inner}, "required": ["volumeAttachment"],
        "additionalProperties": False,
    })  # fmt: skip


_ATTACH = _wrapped({"volumeId": UUID, "device": _DEVICE})
_ATTACH_249 = _wrapped({"volumeId": UUID, "device": _DEVICE, "tag": _TAG})
_ATTACH_279 = _wrapped({"volumeId": UUID, "device": _DEVICE, "tag": _TAG, "delete_on_termination": BOOLEAN})
_UPDATE = _wrapped({"volumeId": UUID})
_UPDATE_285 = _wrapped({
    "volumeId": UUID, "device": _DEVICE, "tag": _TAG, "delete_on_termination": BOOLEAN, "serverId": UUID, "id": UUID,
})  # fmt: skip


def _server(request: Request, call: ComputeCall) -> Server:
    return query.show_server(call.ports, call.caller, request.path_params["server_id"])


def _shelved_before_2_20(call: ComputeCall, server: Server, action: str) -> None:
    if not call.at_least(20) and server.vm_state in (VmState.SHELVED, VmState.SHELVED_OFFLOADED):
        raise Conflict(f"Cannot '{action}' instance {server.id} while it is in vm_state {server.vm_state}")


@compute_endpoint
def index(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-volumes-attachments:index", server.project_id)
    params = request.query_params
    if call.at_least(75) and set(params) - {"limit", "offset"}:
        unexpected = ", ".join(sorted(set(params) - {"limit", "offset"}))
        raise HttpFault(400, f"Additional properties are not allowed ({unexpected} were unexpected)")
    limit, offset = _count(params.get("limit"), "limit"), _count(params.get("offset"), "offset") or 0
    mappings = query.server_attachments(call.ports, server)
    if call.at_least(89):
        mappings = [m for m in mappings if m.attachment_id]
    window = mappings[offset : offset + limit if limit else None]
    return JSONResponse({"volumeAttachments": [attachment_view(call, m) for m in window]})


def _count(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise HttpFault(
            400, f"Invalid input for query parameters {name}. Value: {raw}. '{raw}' does not match '^[0-9]*$'"
        )
    return int(raw)


@compute_endpoint
def show(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-volumes-attachments:show", server.project_id)
    mapping = query.server_attachment(call.ports, server, request.path_params["volume_id"])
    if call.at_least(89) and not mapping.attachment_id:
        message = f"Instance {server.id} is not attached to volume {mapping.volume_id}"
        raise NotFound("BlockDeviceMapping", mapping.volume_id, message)
    return JSONResponse({"volumeAttachment": attachment_view(call, mapping)})


@compute_endpoint
def create(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-volumes-attachments:create", server.project_id)
    body = json_body(request)
    (_ATTACH_279 if call.at_least(79) else _ATTACH_249 if call.at_least(49) else _ATTACH).check(body)
    spec = body["volumeAttachment"]
    _shelved_before_2_20(call, server, "attach_volume")
    mapping = request_attach(
        call.ports, call.asked, server.id, spec["volumeId"],
        spec.get("tag"), as_bool(spec.get("delete_on_termination", False)), call.at_least(60),
    )  # fmt: skip
    reply: dict[str, Any] = {
        "id": mapping.volume_id,
        "serverId": request.path_params["server_id"],
        "volumeId": mapping.volume_id,
        "device": mapping.device_name,
    }
    if call.at_least(70):
        reply["tag"] = mapping.tag
    if call.at_least(79):
        reply["delete_on_termination"] = mapping.delete_on_termination
    return JSONResponse({"volumeAttachment": reply})


@compute_endpoint
def update(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    volume_id = request.path_params["volume_id"]
    body = json_body(request)
    only_swap = not call.at_least(85)
    new_volume = body.get("volumeAttachment", {}).get("volumeId") if isinstance(body, dict) else None
    swapping = only_swap or new_volume != volume_id
    rule = "swap" if swapping else "update"
    call.authorize(f"os_compute_api:os-volumes-attachments:{rule}", None if swapping else server.project_id)
    (_UPDATE if only_swap else _UPDATE_285).check(body)
    spec = body["volumeAttachment"]
    if not only_swap:
        flag = spec.get("delete_on_termination")
        change = AttachmentUpdate(
            attachment_id=spec.get("id"),
            server_id=spec.get("serverId"),
            device=spec.get("device"),
            tag=spec.get("tag"),
            delete_on_termination=None if flag is None else as_bool(flag),
        )
        update_attachment(call.ports, call.asked, server.id, volume_id, change)
    if swapping:
        request_swap(call.ports, call.asked, server.id, volume_id, spec["volumeId"])
    return empty(202)


@compute_endpoint
def delete(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-volumes-attachments:delete", server.project_id)
    _shelved_before_2_20(call, server, "detach_volume")
    request_detach(call.ports, call.asked, server.id, request.path_params["volume_id"])
    return empty(202)

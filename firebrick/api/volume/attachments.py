"""``/attachments`` (3.27+): how a compute service reserves, connects, completes and releases a volume."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.validation import UUID, UUID_OR_NULL, Schema
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.listing import page_from, truthy
from firebrick.api.volume.views import timestamp
from firebrick.domain.attachment.complete import complete_attachment
from firebrick.domain.attachment.create import create_attachment
from firebrick.domain.attachment.delete import delete_attachment
from firebrick.domain.attachment.query import list_attachments, show_attachment
from firebrick.domain.attachment.update import connect
from firebrick.domain.model import Attachment
from firebrick.domain.volume.query import show_volume
from firebrick.errors import NotFound

__all__ = ["complete", "create", "delete", "detail", "index", "show", "update"]

_CONNECTOR = {"type": ["object", "null"]}
_MODE = {"type": "string", "enum": ["rw", "ro"]}


def _wrapped(properties: dict[str, Any], required: list[str]) -> Schema:
    inner = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return Schema({"type": "object", "properties": {"attachment": inner}, "required": ["attachment"]})


_CREATE = _wrapped({"volume_uuid": UUID, "instance_uuid": UUID_OR_NULL, "connector": _CONNECTOR}, ["volume_uuid"])
_CREATE_WITH_MODE = _wrapped(
    {"volume_uuid": UUID, "instance_uuid": UUID_OR_NULL, "connector": _CONNECTOR, "mode": _MODE}, ["volume_uuid"]
)
_UPDATE = _wrapped({"connector": {"type": "object", "minProperties": 1}}, ["connector"])
_SORT_KEYS = {k: k for k in ("created_at", "updated_at", "id", "volume_id")} | {"instance_id": "instance_uuid"}
_FILTERS = {"volume_id": "volume_id", "status": "attach_status", "attach_status": "attach_status",
            "instance_id": "instance_uuid"}  # fmt: skip


def _require_3_27(call: VolumeCall) -> None:
    if not call.at_least(27):
        raise NotFound("Resource", "attachments", "")  # Cinder: a resource above the version is a bare 404


def _summary(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "status": attachment.attach_status,
        "instance": attachment.instance_uuid,
        "volume_id": attachment.volume_id,
    }


def _detail(attachment: Attachment) -> dict[str, Any]:
    return {
        **_summary(attachment),
        "attached_at": timestamp(attachment.attach_time) or "",
        "detached_at": "",
        "attach_mode": attachment.attach_mode,
        "connection_info": attachment.connection_info or {},
    }


@volume_endpoint
def create(request: Request, call: VolumeCall) -> Response:
    _require_3_27(call)
    body = json_body(request)
    (_CREATE_WITH_MODE if call.at_least(54) else _CREATE).check(body)
    spec = body["attachment"]
    volume = show_volume(call.ports, call.caller, spec["volume_uuid"])
    call.authorize("volume:attachment_create", volume.project_id)
    attachment = create_attachment(
        call.ports, call.caller, volume.id, spec.get("instance_uuid"), spec.get("connector"), spec.get("mode")
    )
    return JSONResponse({"attachment": _detail(attachment)})


@volume_endpoint
def update(request: Request, call: VolumeCall) -> Response:
    _require_3_27(call)
    body = json_body(request)
    _UPDATE.check(body)
    found = show_attachment(call.ports, call.caller, request.path_params["attachment_id"])
    call.authorize("volume:attachment_update", _owner(call, found))
    connected = connect(call.ports, call.caller, found.id, body["attachment"]["connector"])
    return JSONResponse({"attachment": _detail(connected)})


@volume_endpoint
def complete(request: Request, call: VolumeCall) -> Response:
    if not call.at_least(44):
        raise NotFound("Resource", "attachments", "")
    body = json_body(request)
    Schema({"type": "object", "required": ["os-complete"]}).check(body)
    found = show_attachment(call.ports, call.caller, request.path_params["attachment_id"])
    call.authorize("volume:attachment_complete", _owner(call, found))
    complete_attachment(call.ports, call.caller, found.id)
    return empty(204)


@volume_endpoint
def delete(request: Request, call: VolumeCall) -> Response:
    _require_3_27(call)
    found = show_attachment(call.ports, call.caller, request.path_params["attachment_id"])
    call.authorize("volume:attachment_delete", _owner(call, found))
    left = delete_attachment(call.ports, call.caller, found.id)
    return JSONResponse({"attachments": [_summary(a) for a in left]})


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    _require_3_27(call)
    found = show_attachment(call.ports, call.caller, request.path_params["attachment_id"])
    return JSONResponse({"attachment": _detail(found)})


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, _summary)


@volume_endpoint
def detail(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, _detail)


def _listing(request: Request, call: VolumeCall, render: Any) -> Response:
    _require_3_27(call)
    params = request.query_params
    page = page_from(params, _SORT_KEYS, _FILTERS)
    found = list_attachments(call.ports, call.caller, page, truthy(params.get("all_tenants")))
    return JSONResponse({"attachments": [render(a) for a in found]})


def _owner(call: VolumeCall, attachment: Attachment) -> str:
    return show_volume(call.ports, call.caller, attachment.volume_id).project_id

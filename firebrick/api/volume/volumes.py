"""``/volumes``: create, list, detail, summary, show, update, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.validation import BOOLEAN, DESCRIPTION, METADATA, NAME, UUID_OR_NULL, VOLUME_SIZE, Schema, as_bool
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.listing import MAX_LIMIT, page_from, truthy
from firebrick.api.volume.views import VolumeView
from firebrick.domain.model import Volume
from firebrick.domain.volume import query
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.delete import request_delete
from firebrick.domain.volume.update import update_volume
from firebrick.errors import InvalidInput, NotFound

__all__ = ["create", "delete", "detail", "index", "show", "summary", "update"]

_NULLABLE = {"type": ["string", "null"]}
_VOLUME_FIELDS: dict[str, Any] = {
    "name": NAME,
    "display_name": NAME,
    "description": DESCRIPTION,
    "display_description": DESCRIPTION,
    "volume_type": _NULLABLE,
    "metadata": {"anyOf": [METADATA, {"type": "null"}]},
    "snapshot_id": UUID_OR_NULL,
    "source_volid": UUID_OR_NULL,
    "consistencygroup_id": UUID_OR_NULL,
    "size": {**VOLUME_SIZE, "type": ["integer", "string", "null"]},
    "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "multiattach": BOOLEAN,
    "imageRef": _NULLABLE,
    "image_id": _NULLABLE,
    "backup_id": UUID_OR_NULL,
    "group_id": UUID_OR_NULL,
}


def _create_schema(strict: bool) -> Schema:
    volume = {"type": "object", "properties": _VOLUME_FIELDS, "additionalProperties": not strict}
    return Schema(
        {
            "type": "object",
            "properties": {"volume": volume, "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]}},
            "required": ["volume"],
            "additionalProperties": False,
        }
    )


def _update_schema(strict: bool) -> Schema:
    fields = {k: _VOLUME_FIELDS[k] for k in ("name", "display_name", "description", "display_description", "metadata")}
    volume: dict[str, Any] = {"type": "object", "properties": fields, "additionalProperties": False}
    if strict:
        volume["minProperties"] = 1
    return Schema(
        {"type": "object", "properties": {"volume": volume}, "required": ["volume"], "additionalProperties": False}
    )


# Microversion 3.53 made unknown keys an error and an empty update a 400.
_CREATE, _CREATE_STRICT = _create_schema(False), _create_schema(True)
_UPDATE, _UPDATE_STRICT = _update_schema(False), _update_schema(True)
_UNSUPPORTED = ("backup_id", "group_id", "consistencygroup_id")
_SORT_KEYS = {k: k for k in ("created_at", "updated_at", "id", "size", "status", "availability_zone", "bootable")}
_SORT_KEYS |= {"name": "name", "display_name": "name"}
_FILTERS = {k: k for k in ("name", "status", "metadata", "bootable", "migration_status", "availability_zone", "size")}
_FILTERS |= {"display_name": "name"}


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


@volume_endpoint
def create(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    (_CREATE_STRICT if call.at_least(53) else _CREATE).check(body)
    spec = body["volume"]
    call.authorize("volume:create")
    _refuse_unsupported(spec)
    size = spec.get("size")
    volume = request_create(
        call.ports,
        call.caller,
        CreateRequest(
            size=int(size) if size is not None else None,
            name=_stripped(spec.get("name", spec.get("display_name"))),
            description=_stripped(spec.get("description", spec.get("display_description"))),
            volume_type=spec.get("volume_type"),
            availability_zone=spec.get("availability_zone"),
            snapshot_id=spec.get("snapshot_id"),
            source_volid=spec.get("source_volid"),
            metadata=spec.get("metadata") or {},
            image_ref=spec.get("imageRef") or spec.get("image_id"),  # Cinder reads either name
        ),
    )
    return JSONResponse({"volume": VolumeView(call).detail(volume, extended=False)}, 202)


def _refuse_unsupported(spec: dict[str, Any]) -> None:
    if "multiattach" in spec and as_bool(spec["multiattach"]):
        raise InvalidInput(
            "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types."
        )
    for key in _UNSUPPORTED:
        if spec.get(key) is not None:
            raise InvalidInput(
                f"Invalid input received: creating a volume with {key} is not supported by this service yet."
            )


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, "volumes", VolumeView(call).summary)


@volume_endpoint
def detail(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, "volumes/detail", VolumeView(call).detail)


def _listing(request: Request, call: VolumeCall, path: str, render: Any) -> Response:
    params = request.query_params
    call.authorize("volume:get_all")
    admin = call.caller.is_admin
    page = page_from(params, _SORT_KEYS, _FILTERS)
    all_tenants = admin and truthy(params.get("all_tenants"))
    project = params.get("project_id") if admin else None
    volumes = query.list_volumes(call.ports, call.caller, page, all_tenants, project)
    body: dict[str, Any] = {"volumes": [render(v) for v in volumes]}
    if volumes and len(volumes) == (page.limit if "limit" in params else MAX_LIMIT):
        body["volumes_links"] = [{"rel": "next", "href": _next_href(call, path, params, volumes[-1])}]
    if call.at_least(45) and truthy(params.get("with_count")):
        body["count"] = query.count_volumes(call.ports, call.caller, page, all_tenants, project)
    return JSONResponse(body)


def _next_href(call: VolumeCall, path: str, params: Any, last: Volume) -> str:
    kept = [(k, v) for k, v in params.multi_items() if k != "marker"] + [("marker", last.id)]
    return f"{call.url(path)}?{urlencode(kept)}"


@volume_endpoint
def summary(request: Request, call: VolumeCall) -> Response:
    if not call.at_least(12):
        raise NotFound("Resource", "summary", "")
    call.authorize("volume:get_all")
    all_tenants = call.caller.is_admin and truthy(request.query_params.get("all_tenants"))
    count, total = query.summarize_volumes(call.ports, call.caller, all_tenants)
    body: dict[str, Any] = {"total_count": count, "total_size": total}
    if call.at_least(36):
        body["metadata"] = {}
    return JSONResponse({"volume-summary": body})


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    volume = query.show_volume(call.ports, call.caller, request.path_params["volume_id"])
    if not call.allowed("volume:get", volume.project_id):
        raise NotFound("Volume", volume.id)  # Cinder hides a refused volume as missing
    return JSONResponse({"volume": VolumeView(call).detail(volume)})


@volume_endpoint
def update(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    (_UPDATE_STRICT if call.at_least(53) else _UPDATE).check(body)
    spec = body["volume"]
    volume = query.show_volume(call.ports, call.caller, request.path_params["volume_id"])
    call.authorize("volume:update", volume.project_id)
    fields = {}
    for field, aliases in (("name", ("name", "display_name")), ("description", ("description", "display_description"))):
        for alias in aliases:
            if alias in spec:
                fields[field] = _stripped(spec[alias])
    volume = update_volume(call.ports, call.caller, volume.id, fields, spec.get("metadata"))
    return JSONResponse({"volume": VolumeView(call).detail(volume, extended=False)})


@volume_endpoint
def delete(request: Request, call: VolumeCall) -> Response:
    params = request.query_params
    volume = query.show_volume(call.ports, call.caller, request.path_params["volume_id"])
    call.authorize("volume:delete", volume.project_id)
    force = call.at_least(23) and truthy(params.get("force"))
    if force:
        call.authorize("volume:force_delete", volume.project_id)
    request_delete(call.ports, call.caller, volume.id, cascade=truthy(params.get("cascade")), force=force)
    return empty(202)

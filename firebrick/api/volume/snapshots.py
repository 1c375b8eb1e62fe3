"""``/snapshots``: create, list, detail, show, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.validation import BOOLEAN, DESCRIPTION, METADATA, NAME, UUID_OR_NULL, Schema, as_bool
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.listing import page_from, truthy
from firebrick.api.volume.views import snapshot_view
from firebrick.domain.snapshot import query
from firebrick.domain.snapshot.create import SnapshotRequest, request_create
from firebrick.domain.snapshot.delete import request_delete

__all__ = ["create", "delete", "detail", "index", "show", "update"]

_TEXT = {"name": NAME, "display_name": NAME, "description": DESCRIPTION, "display_description": DESCRIPTION}
_CREATE = Schema(
    {
        "type": "object",
        "properties": {
            "snapshot": {
                "type": "object",
                "properties": {
                    **_TEXT,
                    "volume_id": UUID_OR_NULL,
                    "force": BOOLEAN,
                    "metadata": {"anyOf": [METADATA, {"type": "null"}]},
                },
                "required": ["volume_id"],
                "additionalProperties": False,
            }
        },
        "required": ["snapshot"],
        "additionalProperties": False,
    }
)
_UPDATE = Schema(
    {
        "type": "object",
        "properties": {
            "snapshot": {"type": "object", "properties": _TEXT, "additionalProperties": False, "minProperties": 1}
        },
        "required": ["snapshot"],
        "additionalProperties": False,
    }
)
_SORT_KEYS = {k: k for k in ("created_at", "updated_at", "id", "size", "status", "volume_id")} | {"name": "name"}
_FILTERS = {k: k for k in ("name", "status", "volume_id")} | {"display_name": "name"}


def _text(spec: dict[str, Any]) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for field in ("name", "description"):
        for alias in (field, f"display_{field}"):
            if alias in spec:
                value = spec[alias]
                fields[field] = value.strip() if isinstance(value, str) else value
    return fields


@volume_endpoint
def create(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _CREATE.check(body)
    spec = body["snapshot"]
    call.authorize("volume:create_snapshot")
    text = _text(spec)
    snapshot = request_create(
        call.ports,
        call.caller,
        SnapshotRequest(
            volume_id=spec.get("volume_id"),
            name=text.get("name"),
            description=text.get("description"),
            force=as_bool(spec["force"]) if "force" in spec else None,
            metadata=spec.get("metadata") or {},
            in_use_without_force=call.at_least(66),
        ),
    )
    return JSONResponse({"snapshot": snapshot_view(call, snapshot, extended=False)}, 202)


def _listing(request: Request, call: VolumeCall, extended: bool) -> Response:
    call.authorize("volume:get_all_snapshots")
    params = request.query_params
    page = page_from(params, _SORT_KEYS, _FILTERS)
    all_tenants = call.caller.is_admin and truthy(params.get("all_tenants"))
    snapshots = query.list_snapshots(call.ports, call.caller, page, all_tenants)
    return JSONResponse({"snapshots": [snapshot_view(call, s, extended) for s in snapshots]})


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, extended=False)


@volume_endpoint
def detail(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, extended=True)


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    snapshot = query.visible_snapshot(call.ports, call.caller, request.path_params["snapshot_id"])
    call.authorize("volume:get_snapshot", snapshot.project_id)
    return JSONResponse({"snapshot": snapshot_view(call, snapshot, extended=True)})


@volume_endpoint
def update(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _UPDATE.check(body)
    snapshot = query.visible_snapshot(call.ports, call.caller, request.path_params["snapshot_id"])
    call.authorize("volume:update_snapshot", snapshot.project_id)
    snapshot = query.update_snapshot(call.ports, call.caller, snapshot.id, _text(body["snapshot"]))
    return JSONResponse({"snapshot": snapshot_view(call, snapshot, extended=False)})


@volume_endpoint
def delete(request: Request, call: VolumeCall) -> Response:
    snapshot = query.visible_snapshot(call.ports, call.caller, request.path_params["snapshot_id"])
    call.authorize("volume:delete_snapshot", snapshot.project_id)
    request_delete(call.ports, call.caller, snapshot.id)
    return empty(202)

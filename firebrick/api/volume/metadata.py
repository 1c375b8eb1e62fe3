"""``/volumes/{id}/metadata``: read, merge, replace, and one key at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, json_body
from firebrick.api.validation import METADATA, Schema
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.domain.volume import query, update
from firebrick.errors import InvalidInput, NotFound

__all__ = ["delete_key", "index", "merge", "replace", "replace_key", "show_key"]

_METADATA = Schema(
    {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"], "additionalProperties": False}
)
_META = Schema(
    {"type": "object", "properties": {"meta": METADATA}, "required": ["meta"], "additionalProperties": False}
)


def _volume_id(request: Request, call: VolumeCall, rule: str) -> str:
    volume = query.show_volume(call.ports, call.caller, request.path_params["volume_id"])
    call.authorize(rule, volume.project_id)
    return volume.id


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    volume_id = _volume_id(request, call, "volume:get_volume_metadata")
    return JSONResponse({"metadata": query.show_volume(call.ports, call.caller, volume_id).metadata})


def _write(request: Request, call: VolumeCall, replace_all: bool) -> Response:
    body = json_body(request)
    _METADATA.check(body)
    volume_id = _volume_id(
        request, call, "volume:create_volume_metadata" if not replace_all else "volume:update_volume_metadata"
    )
    result = update.set_metadata(call.ports, call.caller, volume_id, body["metadata"], replace=replace_all)
    return JSONResponse({"metadata": result if not replace_all else body["metadata"]})


@volume_endpoint
def merge(request: Request, call: VolumeCall) -> Response:
    return _write(request, call, replace_all=False)


@volume_endpoint
def replace(request: Request, call: VolumeCall) -> Response:
    return _write(request, call, replace_all=True)


@volume_endpoint
def show_key(request: Request, call: VolumeCall) -> Response:
    volume_id = _volume_id(request, call, "volume:get_volume_metadata")
    key = request.path_params["key"]
    metadata = query.show_volume(call.ports, call.caller, volume_id).metadata
    if key not in metadata:
        raise NotFound("Metadata", key, f"Metadata item was not found for volume {volume_id}, key {key}.")
    return JSONResponse({"meta": {key: metadata[key]}})


@volume_endpoint
def replace_key(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    _META.check(body)
    key = request.path_params["key"]
    if key not in body["meta"]:
        raise InvalidInput("Request body and URI mismatch")
    if len(body["meta"]) > 1:
        raise InvalidInput("Request body contains too many items")
    volume_id = _volume_id(request, call, "volume:update_volume_metadata")
    update.set_metadata(call.ports, call.caller, volume_id, body["meta"], replace=False)
    return JSONResponse({"meta": body["meta"]})


@volume_endpoint
def delete_key(request: Request, call: VolumeCall) -> Response:
    volume_id = _volume_id(request, call, "volume:delete_volume_metadata")
    update.delete_metadata_key(call.ports, call.caller, volume_id, request.path_params["key"])
    return Response(status_code=200)

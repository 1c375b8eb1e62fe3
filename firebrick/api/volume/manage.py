"""Manage existing files: ``os-volume-manage`` and (3.8+) ``manageable_volumes`` (admin).

``POST`` manages one file; ``GET`` and ``GET …/detail`` list what could be managed.
The legacy ``os-volume-manage`` paths answer at every microversion, the
``manageable_volumes`` ones from 3.8. A reference is ``{"source-name": <file
name in the pool>}``, or ``{"source-id": <id>}`` for the file ``volume-<id>``
(the name firebrick gives a volume's file, which an unmanaged volume keeps).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, json_body
from firebrick.api.validation import BOOLEAN, DESCRIPTION, METADATA, NAME, Schema, as_bool
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.listing import page_from
from firebrick.api.volume.views import VolumeView
from firebrick.domain.model import Page
from firebrick.domain.volume.manage import ManageRequest, request_manage
from firebrick.domain.volume.manageable import ManageableVolume, list_manageable
from firebrick.errors import InvalidInput, NotFound

__all__ = ["detail", "detail_legacy", "index", "index_legacy", "manage", "manage_legacy"]

_HOST = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9-._#@:/+\[\]]*$"}
_NULLABLE_TEXT = {"type": ["string", "null"], "maxLength": 255}
_REFERENCE = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {"source-name": {"type": "string"}, "source-id": {"type": "string"}},
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        },
    ]
}
_FIELDS: dict[str, Any] = {
    "host": _HOST,
    "ref": _REFERENCE,
    "name": NAME,
    "description": DESCRIPTION,
    "volume_type": _NULLABLE_TEXT,
    "availability_zone": _NULLABLE_TEXT,
    "metadata": {"anyOf": [METADATA, {"type": "null"}]},
    # openstacksdk sends null for a bootable it was not given.
    "bootable": {"anyOf": [BOOLEAN, {"type": "null"}]},
}


def _schema(with_cluster: bool) -> Schema:
    fields = {**_FIELDS, "cluster": _HOST} if with_cluster else _FIELDS
    volume = {"type": "object", "properties": fields, "required": ["ref"], "additionalProperties": False}
    return Schema({"type": "object", "properties": {"volume": volume}, "required": ["volume"]})


# Microversion 3.16 added ``cluster`` as the other way to say where the file is.
_MANAGE, _MANAGE_WITH_CLUSTER = _schema(False), _schema(True)
_SORT_KEYS = {"reference": "reference", "size": "size"}


@volume_endpoint
def manage_legacy(request: Request, call: VolumeCall) -> Response:
    return _manage(request, call)


@volume_endpoint
def manage(request: Request, call: VolumeCall) -> Response:
    _require_3_8(call)
    return _manage(request, call)


def _manage(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:volume_manage")
    body = json_body(request)
    (_MANAGE_WITH_CLUSTER if call.at_least(16) else _MANAGE).check(body)
    spec = body["volume"]
    volume = request_manage(
        call.ports,
        call.caller,
        ManageRequest(
            host=_where(call, spec.get("host"), spec.get("cluster")),
            reference=_file_name(spec["ref"]),
            name=spec.get("name"),
            description=spec.get("description"),
            volume_type=spec.get("volume_type"),
            availability_zone=spec.get("availability_zone"),
            metadata=spec.get("metadata") or {},
            bootable=as_bool(spec.get("bootable") or False),
        ),
    )
    return JSONResponse({"volume": VolumeView(call).detail(volume, extended=False)}, 202)


def _where(call: VolumeCall, host: str | None, cluster: str | None) -> str:
    """The backend host a request names; firebrick has no clusters, so a cluster is never found."""
    if call.at_least(16) and bool(host) == bool(cluster):
        raise InvalidInput("One and only one of cluster and host must be set.")
    if cluster:
        raise InvalidInput(f"Cluster '{cluster}' not found.")
    if not host:
        raise InvalidInput("Host field is missing.")
    return host


def _file_name(reference: str | dict[str, str]) -> str:
    if isinstance(reference, str):
        return reference
    if "source-id" in reference:
        return f"volume-{reference['source-id']}"
    return reference["source-name"]


@volume_endpoint
def index_legacy(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, detailed=False)


@volume_endpoint
def detail_legacy(request: Request, call: VolumeCall) -> Response:
    return _listing(request, call, detailed=True)


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    _require_3_8(call)
    return _listing(request, call, detailed=False)


@volume_endpoint
def detail(request: Request, call: VolumeCall) -> Response:
    _require_3_8(call)
    return _listing(request, call, detailed=True)


def _listing(request: Request, call: VolumeCall, detailed: bool) -> Response:
    call.authorize("volume_extension:list_manageable")
    params = request.query_params
    host, cluster = params.get("host"), params.get("cluster")
    if call.at_least(17) and bool(host) == bool(cluster):
        raise InvalidInput("One and only one of cluster and host must be set.")
    if cluster:
        raise NotFound("Cluster", cluster, f"Cluster {cluster} could not be found.")
    if not host:
        raise InvalidInput("Host field is missing.")
    defaults = {"sort_key": "reference", "sort_dir": "asc"} if "sort" not in params else {}
    page = page_from({**defaults, **params}, _SORT_KEYS, {})
    # page_from ends every sort with the row id; files have none (their names are unique).
    sort = tuple(pair for pair in page.sort if pair[0] in _SORT_KEYS)
    page = Page(sort=sort, limit=page.limit, marker=_marker(params.get("marker")), offset=page.offset)
    found = list_manageable(call.ports, host, page)
    return JSONResponse({"manageable-volumes": [_view(entry, detailed) for entry in found]})


def _marker(raw: str | None) -> str | None:
    """A marker is a reference, as Cinder takes it (JSON), or simply a file name."""
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(parsed, dict):
        return raw
    if not isinstance(parsed.get("source-name"), str):
        raise InvalidInput(f"marker {raw} can not be analysed, please use json like format")
    return str(parsed["source-name"])


def _view(entry: ManageableVolume, detailed: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": {"source-name": entry.reference},
        "size": entry.size,
        "safe_to_manage": entry.safe_to_manage,
    }
    if detailed:
        body |= {"reason_not_safe": entry.reason_not_safe, "cinder_id": entry.cinder_id, "extra_info": entry.extra_info}
    return body


def _require_3_8(call: VolumeCall) -> None:
    if not call.at_least(8):
        raise NotFound("Resource", "manageable_volumes", "")  # Cinder: a resource above the version is a bare 404

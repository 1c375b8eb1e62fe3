"""``/os-quota-sets/{project}`` and ``/limits``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, json_body
from firebrick.api.validation import Schema
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.listing import truthy
from firebrick.domain import quota

__all__ = ["defaults", "limits", "reset", "show", "update"]

_NOT_QUOTAS = frozenset({"tenant_id", "id", "skip_validation"})
_UPDATE = Schema(
    {
        "type": "object",
        "properties": {
            "quota_set": {
                "type": "object",
                "additionalProperties": {"type": ["integer", "string"], "pattern": "^-?[0-9]+$"},
            }
        },
        "required": ["quota_set"],
        "additionalProperties": False,
    }
)


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    target = request.path_params["target_project"]
    call.authorize("volume_extension:quotas:show", target)
    limits = quota.project_limits(call.ports, target)
    body: dict[str, Any] = dict(limits)
    if truthy(request.query_params.get("usage")):
        in_use = quota.project_usage(call.ports, target)
        body = {k: {"limit": v, "in_use": in_use.get(k, 0), "reserved": 0} for k, v in limits.items()}
    return JSONResponse({"quota_set": {**body, "id": target}})


@volume_endpoint
def defaults(request: Request, call: VolumeCall) -> Response:
    target = request.path_params["target_project"]
    call.authorize("volume_extension:quotas:show", target)
    return JSONResponse({"quota_set": {**quota.project_limits(call.ports, target, defaults_only=True), "id": target}})


@volume_endpoint
def update(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    if isinstance(body, dict) and isinstance(body.get("quota_set"), dict):
        # Not quota keys: cinderclient always sends tenant_id; Cinder ignores these three.
        body["quota_set"] = {k: v for k, v in body["quota_set"].items() if k not in _NOT_QUOTAS}
    _UPDATE.check(body)
    target = request.path_params["target_project"]
    call.authorize("volume_extension:quotas:update", target)
    updates = {k: int(v) for k, v in body["quota_set"].items()}
    return JSONResponse({"quota_set": quota.update_limits(call.ports, target, updates)})


@volume_endpoint
def reset(request: Request, call: VolumeCall) -> Response:
    target = request.path_params["target_project"]
    call.authorize("volume_extension:quotas:delete", target)
    quota.reset_limits(call.ports, target)
    return Response(status_code=200)


@volume_endpoint
def limits(request: Request, call: VolumeCall) -> Response:
    target = call.caller.project_id
    if call.at_least(39) and call.caller.is_admin and request.query_params.get("project_id"):
        target = request.query_params["project_id"]
    call.authorize("limits_extension:used_limits", target)
    limit, in_use = quota.project_limits(call.ports, target), quota.project_usage(call.ports, target)
    absolute = {
        "maxTotalVolumes": limit["volumes"],
        "maxTotalSnapshots": limit["snapshots"],
        "maxTotalVolumeGigabytes": limit["gigabytes"],
        "maxTotalBackups": limit["backups"],
        "maxTotalBackupGigabytes": limit["backup_gigabytes"],
        "totalVolumesUsed": in_use["volumes"],
        "totalGigabytesUsed": in_use["gigabytes"],
        "totalSnapshotsUsed": in_use["snapshots"],
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }
    return JSONResponse({"limits": {"rate": [], "absolute": absolute}})

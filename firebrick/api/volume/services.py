"""``/os-services``, ``/os-availability-zone`` and ``/scheduler-stats/get_pools``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, json_body
from firebrick.api.validation import NAME, Schema
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.views import timestamp
from firebrick.clock import utcnow
from firebrick.domain.model import Service
from firebrick.domain.service import query, status
from firebrick.errors import InvalidInput, NotFound

__all__ = ["get_pools", "index", "set_status", "zones"]

_GiB = 1024**3
_UPDATE = Schema(
    {
        "type": "object",
        "properties": {"host": {"type": "string"}, "binary": {"type": "string"}, "disabled_reason": NAME},
        "required": ["host"],
    }
)


def _service_view(call: VolumeCall, service: Service) -> dict[str, Any]:
    state = "up" if call.ports.is_up(service) else "down"
    body: dict[str, Any] = {
        "binary": service.binary,
        "host": service.host,
        "zone": service.zone,
        "status": "disabled" if service.disabled else "enabled",
        "state": state,
        "updated_at": timestamp(service.updated_at),
        "disabled_reason": service.disabled_reason,
    }
    if call.at_least(7):
        body["cluster"] = None
    if service.binary == "cinder-volume":
        if call.at_least(49):
            body["backend_state"] = state
        body |= {"replication_status": "disabled", "active_backend_id": None, "frozen": False}
    return body


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:services:index")
    params = request.query_params
    found = query.list_services(call.ports, params.get("host"), params.get("binary"))
    return JSONResponse({"services": [_service_view(call, s) for s in found]})


@volume_endpoint
def set_status(request: Request, call: VolumeCall) -> Response:
    action = request.path_params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        raise NotFound("Resource", action, "Unknown action")
    body = json_body(request)
    _UPDATE.check(body)
    call.authorize("volume_extension:services:update")
    binary = body.get("binary", "cinder-volume")
    disabled = action != "enable"
    reason = body.get("disabled_reason") if action == "disable-log-reason" else None
    if action == "disable-log-reason" and not reason:
        raise InvalidInput("Disabled reason contains invalid characters or is too long")
    status.set_disabled(call.ports, body["host"], binary, disabled, reason)
    result = {
        "host": body["host"],
        "binary": binary,
        "service": binary,
        "disabled": disabled,
        "status": "disabled" if disabled else "enabled",
    }
    if reason is not None:
        result["disabled_reason"] = reason
    return JSONResponse(result)


@volume_endpoint
def zones(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:availability_zone_list")
    available = query.availability_zones(call.ports)
    info = [{"zoneName": zone, "zoneState": {"available": up}} for zone, up in sorted(available.items())]
    return JSONResponse({"availabilityZoneInfo": info})


@volume_endpoint
def get_pools(request: Request, call: VolumeCall) -> Response:
    call.authorize("scheduler_extension:scheduler_stats:get_pools")
    detailed = request.query_params.get("detail", "").lower() in ("true", "1")
    pools = []
    for pool, capacity in query.list_pools(call.ports, with_capacity=detailed):
        entry: dict[str, Any] = {"name": pool.host}
        if capacity is not None:
            entry["capabilities"] = {
                "pool_name": pool.host.split("#")[1],
                "volume_backend_name": pool.backend_name,
                "total_capacity_gb": round(capacity.total_bytes / _GiB, 2),
                "free_capacity_gb": round(capacity.free_bytes / _GiB, 2),
                "reserved_percentage": 0,
                "storage_protocol": "file",
                "vendor_name": "firebrick",
                "driver_version": "1.0",
                "thin_provisioning_support": True,
                "QoS_support": False,
                "multiattach": False,
                "online_extend_support": True,
                "timestamp": timestamp(utcnow()),
            }
        pools.append(entry)
    return JSONResponse({"pools": pools})

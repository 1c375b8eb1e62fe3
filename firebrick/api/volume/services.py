"""``/os-services``, ``/os-availability-zone`` and ``/scheduler-stats/get_pools``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, read_json
from firebrick.api.validation import NAME, Schema
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume.views import timestamp
from firebrick.clock import utcnow
from firebrick.domain.model import Service
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
async def index(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:services:index")
    params = request.query_params
    found = call.node.repos.services.find(params.get("host"), params.get("binary"))
    return JSONResponse({"services": [_service_view(call, s) for s in found]})


@volume_endpoint
async def set_status(request: Request, call: VolumeCall) -> Response:
    action = request.path_params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        raise NotFound("Resource", action, "Unknown action")
    body = await read_json(request)
    _UPDATE.check(body)
    call.authorize("volume_extension:services:update")
    binary = body.get("binary", "cinder-volume")
    disabled = action != "enable"
    reason = body.get("disabled_reason") if action == "disable-log-reason" else None
    if action == "disable-log-reason" and not reason:
        raise InvalidInput("Disabled reason contains invalid characters or is too long")
    if not call.node.repos.services.set_disabled(body["host"], binary, disabled, reason):
        raise NotFound("Service", body["host"], "Service could not be found.")
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
async def zones(request: Request, call: VolumeCall) -> Response:
    call.authorize("volume_extension:availability_zone_list")
    available: dict[str, bool] = {}
    for service in call.node.repos.services.find(binary="cinder-volume"):
        available[service.zone] = available.get(service.zone, False) or not service.disabled
    info = [{"zoneName": zone, "zoneState": {"available": up}} for zone, up in sorted(available.items())]
    return JSONResponse({"availabilityZoneInfo": info})


@volume_endpoint
async def get_pools(request: Request, call: VolumeCall) -> Response:
    call.authorize("scheduler_extension:scheduler_stats:get_pools")
    detailed = request.query_params.get("detail", "").lower() in ("true", "1")
    pools = []
    for pool in call.ports.pools:
        entry: dict[str, Any] = {"name": pool.host}
        if detailed:
            capacity = pool.driver.capacity()
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

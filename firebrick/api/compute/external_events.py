"""``POST /os-server-external-events``: 200 when every event was accepted, 207 otherwise."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, json_body
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.validation import UUID, Schema
from firebrick.domain.compute.events import ExternalEvent, accept_events

__all__ = ["create"]

_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
# Event names by the microversion that added them.
_LATER_NAMES = ((51, "volume-extended"), (76, "power-update"), (82, "accelerator-request-bound"))


def _schema(call: ComputeCall) -> Schema:
    names = _NAMES + [name for minor, name in _LATER_NAMES if call.at_least(minor)]
    event = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": names},
            "server_uuid": UUID,
            "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
            "tag": {"type": "string", "maxLength": 255},
        },
        "required": ["name", "server_uuid"],
        "additionalProperties": False,
    }
    return Schema({
        "type": "object", "properties": {"events": {"type": "array", "minItems": 1, "items": event}},
        "required": ["events"], "additionalProperties": False,
    })  # fmt: skip


@compute_endpoint
def create(request: Request, call: ComputeCall) -> Response:
    call.authorize("os_compute_api:os-server-external-events:create", "")
    body = json_body(request)
    _schema(call).check(body)
    events = [
        ExternalEvent(e["name"], e["server_uuid"], e.get("status", "completed"), e.get("tag")) for e in body["events"]
    ]
    results = accept_events(call.ports, call.asked, events)
    answered: list[dict[str, Any]] = []
    for result in results:
        item: dict[str, Any] = {"name": result.event.name, "server_uuid": result.event.server_uuid,
                                "status": result.status, "code": result.code}  # fmt: skip
        if result.event.tag is not None:
            item["tag"] = result.event.tag
        answered.append(item)
    status = 200 if all(r.code == 200 for r in results) else 207
    return JSONResponse({"events": answered}, status)

"""The attach and detach volume actions (legacy flow, and an admin's force detach).

Kept apart from ``actions.py`` because they share schemas and one domain
package; the dispatcher there merges ``ATTACH_ACTIONS`` into its table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty
from firebrick.api.validation import UUID, UUID_OR_NULL, Schema
from firebrick.api.volume._call import VolumeCall
from firebrick.domain.model import Volume
from firebrick.domain.volume import attach, detach, query
from firebrick.domain.volume.connection import initialize_connection

__all__ = ["ATTACH_ACTIONS"]

Action = Callable[[VolumeCall, str, Any], Response]

_ATTACH = Schema({
    "type": "object",
    "properties": {
        "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
        "instance_uuid": UUID,
        "host_name": {"type": "string", "maxLength": 255},
        "mode": {"type": "string", "enum": ["rw", "ro"]},
    },
    "required": ["mountpoint"],
    "anyOf": [{"required": ["instance_uuid"]}, {"required": ["host_name"]}],
    "additionalProperties": False,
})  # fmt: skip
_DETACH = Schema(
    {"type": ["object", "null"], "properties": {"attachment_id": UUID_OR_NULL}, "additionalProperties": False}
)
_CONNECT = Schema({"type": "object", "properties": {"connector": {"type": "object"}}, "required": ["connector"]})
_DISCONNECT = Schema({
    "type": "object", "properties": {"connector": {"type": ["string", "object", "null"]}}, "required": ["connector"],
})  # fmt: skip
_FORCE_DETACH = Schema({
    "type": "object",
    "properties": {"connector": {"type": ["string", "object", "null"]}, "attachment_id": {"type": ["string", "null"]}},
    "additionalProperties": False,
})  # fmt: skip


def _volume(call: VolumeCall, volume_id: str, rule: str) -> Volume:
    # After the body's check: Cinder validates the body before it looks for the volume.
    volume = query.show_volume(call.ports, call.caller, volume_id)
    call.authorize(rule, volume.project_id)
    return volume


def _attach(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _ATTACH.check(spec)
    volume = _volume(call, volume_id, "volume_extension:volume_actions:attach")
    attach.attach(
        call.ports, call.caller, volume.id,
        spec["mountpoint"], spec.get("instance_uuid"), spec.get("host_name"), spec.get("mode", "rw"),
    )  # fmt: skip
    return empty(202)


def _detach(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _DETACH.check(spec)
    volume = _volume(call, volume_id, "volume_extension:volume_actions:detach")
    detach.detach(call.ports, call.caller, volume.id, (spec or {}).get("attachment_id"))
    return empty(202)


def _reserve(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id, "volume_extension:volume_actions:reserve")
    attach.reserve(call.ports, call.caller, volume.id)
    return empty(202)


def _unreserve(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id, "volume_extension:volume_actions:unreserve")
    attach.unreserve(call.ports, call.caller, volume.id)
    return empty(202)


def _begin_detaching(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id, "volume_extension:volume_actions:begin_detaching")
    detach.begin_detaching(call.ports, call.caller, volume.id)
    return empty(202)


def _roll_detaching(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id, "volume_extension:volume_actions:roll_detaching")
    detach.roll_detaching(call.ports, call.caller, volume.id)
    return empty(202)


def _initialize_connection(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _CONNECT.check(spec)
    volume = _volume(call, volume_id, "volume_extension:volume_actions:initialize_connection")
    info = initialize_connection(call.ports, call.caller, volume.id, spec["connector"])
    return JSONResponse({"connection_info": info})


def _terminate_connection(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _DISCONNECT.check(spec)
    volume = _volume(call, volume_id, "volume_extension:volume_actions:terminate_connection")
    detach.terminate_connection(call.ports, call.caller, volume.id)
    return empty(202)


def _force_detach(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _FORCE_DETACH.check(spec)
    volume = _volume(call, volume_id, "volume_extension:volume_admin_actions:force_detach")
    detach.force_detach(call.ports, call.caller, volume.id, spec.get("attachment_id"))
    return empty(202)


ATTACH_ACTIONS: dict[str, Action] = {
    "os-attach": _attach,
    "os-detach": _detach,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-initialize_connection": _initialize_connection,
    "os-terminate_connection": _terminate_connection,
    "os-force_detach": _force_detach,
}

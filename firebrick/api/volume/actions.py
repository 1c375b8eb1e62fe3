"""``POST /volumes/{id}/action``: one body key names the action; one entry per action below."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body
from firebrick.api.errors import HttpFault
from firebrick.api.validation import BOOLEAN, UUID, VOLUME_SIZE, Schema, as_bool
from firebrick.api.volume._attach_actions import ATTACH_ACTIONS
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.api.volume._upload_action import upload_image
from firebrick.domain.model import Volume
from firebrick.domain.volume import image_metadata, query
from firebrick.domain.volume.bootable import set_bootable
from firebrick.domain.volume.delete import request_delete
from firebrick.domain.volume.extend import complete_extend, request_extend
from firebrick.domain.volume.migrate import complete_migration, request_migrate
from firebrick.domain.volume.readonly import update_readonly_flag
from firebrick.domain.volume.reset_status import request_reset_status
from firebrick.domain.volume.retype import MIGRATION_POLICIES, request_retype
from firebrick.domain.volume.revert import request_revert
from firebrick.domain.volume.states import VolumeStatus
from firebrick.domain.volume.unmanage import request_unmanage
from firebrick.errors import NotFound

__all__ = ["dispatch"]

Action = Callable[[VolumeCall, str, Any], Response]


def _schema(properties: dict[str, Any], required: list[str]) -> Schema:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return Schema({**schema, "required": required} if required else schema)


_NULLABLE_TEXT = {"type": ["string", "null"]}
_EXTEND = _schema({"new_size": VOLUME_SIZE}, ["new_size"])
_BOOTABLE = _schema({"bootable": BOOLEAN}, ["bootable"])
_EXTEND_COMPLETION = _schema({"error": BOOLEAN}, [])
_REVERT = Schema({"type": "object", "properties": {"snapshot_id": UUID}, "required": ["snapshot_id"]})
_IMAGE_METADATA = _schema({"metadata": {"type": "object", "patternProperties": {
    "^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string"}}, "additionalProperties": False}}, ["metadata"])  # fmt: skip
_READONLY = _schema({"readonly": BOOLEAN}, ["readonly"])
_IMAGE_KEY = _schema({"key": {"type": "string", "minLength": 1, "maxLength": 255}}, ["key"])
_RESET = _schema({"status": _NULLABLE_TEXT, "attach_status": _NULLABLE_TEXT, "migration_status": _NULLABLE_TEXT}, [])
# Cinder's schemas: host is required until 3.16 (which adds cluster; firebrick has no clusters).
_MIGRATE = _schema({"host": {"type": "string", "minLength": 1, "maxLength": 255}, "force_host_copy": BOOLEAN,
                    "lock_volume": BOOLEAN}, ["host"])  # fmt: skip
_MIGRATE_COMPLETION = _schema({"new_volume": UUID, "error": BOOLEAN}, ["new_volume"])
# Cinder's schema lists no null in the enum (so rejects it); its API then reads null as "never", as here.
_RETYPE = _schema({"new_type": {"type": "string"}, "migration_policy": {
    "type": ["string", "null"], "enum": [*MIGRATION_POLICIES, None]}}, ["new_type"])  # fmt: skip


def _volume(call: VolumeCall, volume_id: str) -> Volume:
    # Loaded after the body is validated: Cinder checks the body before it looks for the volume.
    return query.show_volume(call.ports, call.caller, volume_id)


def _extend(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _EXTEND.check(spec)
    volume = _volume(call, volume_id)
    attached = call.at_least(42) and volume.status == VolumeStatus.IN_USE
    call.authorize("volume:extend_attached_volume" if attached else "volume:extend", volume.project_id)
    request_extend(call.ports, call.caller, volume.id, int(spec["new_size"]), attached=call.at_least(42))
    return empty(202)


def _extend_volume_completion(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    if not call.at_least(71):
        raise NotFound("Resource", "os-extend_volume_completion", "")
    _EXTEND_COMPLETION.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume:extend_volume_completion", volume.project_id)
    complete_extend(call.ports, call.caller, volume.id, as_bool(spec.get("error", False)))
    return empty(202)


def _set_bootable(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _BOOTABLE.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume:update", volume.project_id)
    set_bootable(call.ports, call.caller, volume.id, as_bool(spec["bootable"]))
    return empty(200)  # not 202: Cinder (and tempest's schema) say 200 here


def _reset_status(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _RESET.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_admin_actions:reset_status", volume.project_id)
    fields = (spec.get("status"), spec.get("attach_status"), spec.get("migration_status"))
    request_reset_status(call.ports, call.caller, volume.id, *fields)
    return empty(202)


def _revert(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    if not call.at_least(40):
        raise NotFound("Resource", "revert", "")  # Cinder: an action above the version is a bare 404
    _REVERT.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume:revert_to_snapshot", volume.project_id)
    request_revert(call.ports, call.caller, volume.id, spec["snapshot_id"])
    return empty(202)


def _set_image_metadata(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _IMAGE_METADATA.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_image_metadata:set", volume.project_id)
    return JSONResponse(
        {"metadata": image_metadata.set_image_metadata(call.ports, call.caller, volume.id, spec["metadata"])}
    )


def _unset_image_metadata(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _IMAGE_KEY.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_image_metadata:remove", volume.project_id)
    image_metadata.unset_image_metadata(call.ports, call.caller, volume.id, spec["key"])
    return empty(200)


def _show_image_metadata(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id)
    call.authorize("volume:get_volume_metadata", volume.project_id)
    return JSONResponse({"metadata": image_metadata.show_image_metadata(call.ports, call.caller, volume.id)})


def _update_readonly_flag(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _READONLY.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume:update_readonly_flag", volume.project_id)
    update_readonly_flag(call.ports, call.caller, volume.id, as_bool(spec["readonly"]))
    return empty(202)


def _force_delete(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_admin_actions:force_delete", volume.project_id)
    request_delete(call.ports, call.caller, volume.id, force=True)
    return empty(202)


def _retype(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _RETYPE.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume:retype", volume.project_id)
    multiattach_allowed = call.allowed("volume:multiattach", volume.project_id)
    request_retype(
        call.ports, call.caller, volume.id, spec["new_type"], spec.get("migration_policy"), multiattach_allowed
    )
    return empty(202)


def _migrate(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _MIGRATE.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_admin_actions:migrate_volume", volume.project_id)
    request_migrate(call.ports, call.caller, volume.id, spec["host"], as_bool(spec.get("lock_volume", False)))
    return empty(202)


def _migrate_completion(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    _MIGRATE_COMPLETION.check(spec)
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_admin_actions:migrate_volume_completion", volume.project_id)
    error = as_bool(spec.get("error", False))
    return JSONResponse(
        {"save_volume_id": complete_migration(call.ports, call.caller, volume.id, spec["new_volume"], error)}
    )


def _unmanage(call: VolumeCall, volume_id: str, _spec: Any) -> Response:
    volume = _volume(call, volume_id)
    call.authorize("volume_extension:volume_unmanage", volume.project_id)
    request_unmanage(call.ports, call.caller, volume.id)
    return empty(202)


_ACTIONS: dict[str, Action] = {
    **ATTACH_ACTIONS,
    "os-extend": _extend,
    "os-extend_volume_completion": _extend_volume_completion,
    "os-set_bootable": _set_bootable,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "os-retype": _retype,
    "os-unmanage": _unmanage,
    "os-migrate_volume": _migrate,
    "os-migrate_volume_completion": _migrate_completion,
    "revert": _revert,
    "os-set_image_metadata": _set_image_metadata,
    "os-unset_image_metadata": _unset_image_metadata,
    "os-show_image_metadata": _show_image_metadata,
    "os-update_readonly_flag": _update_readonly_flag,
    "os-volume_upload_image": upload_image,
}


@volume_endpoint
def dispatch(request: Request, call: VolumeCall) -> Response:
    body = json_body(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise HttpFault(400, "Malformed request body")
    [(name, spec)] = body.items()
    action = _ACTIONS.get(name)
    if action is None:
        raise HttpFault(
            400, f"There is no such action: {name}. Verify the request body and Content-Type header and try again."
        )
    return action(call, request.path_params["volume_id"], spec)

"""An admin's reset of a volume's statuses (``os-reset_status``).

Cinder writes these fields with no precondition; here the write is still a
compare-and-set against the status just read, so a reset never silently
overwrites a change it did not see. A job still queued for the volume finds the
status changed and ends without acting.
"""

from __future__ import annotations

from typing import Any

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import RESETTABLE, AttachStatus, MigrationStatus, VolumeStatus
from firebrick.errors import InvalidInput, InvalidState

__all__ = ["request_reset_status"]

_ATTACH_VALUES = (AttachStatus.ATTACHED, AttachStatus.DETACHED)
# Cinder meant to refuse these three (a missing comma in its code lets two through).
_NOT_A_TARGET = frozenset({VolumeStatus.DELETING, VolumeStatus.ERROR_DELETING, VolumeStatus.DETACHING})


def request_reset_status(
    ports: Ports,
    caller: Caller,
    volume_id: str,
    status: str | None,
    attach_status: str | None,
    migration_status: str | None,
) -> None:
    """Set any of status, attach_status and migration_status (values are case-insensitive).

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: nothing to set, an unknown value, a forbidden target, or ``in-use``
            without attachments.
        InvalidState: the volume changed while being reset.
    """
    fields = _validated(status, attach_status, migration_status)
    volume = visible_volume(ports, caller, volume_id)
    new_status = fields.pop("status", volume.status)
    if new_status == VolumeStatus.IN_USE and not volume.attachments:
        raise InvalidInput("Cannot reset-state to in-use because volume does not have any attachments.")
    fields["resize_target"] = None
    moved = ports.volumes.transition(volume.id, {volume.status}, new_status, override=True, **fields)
    if not moved:
        current = ports.volumes.get(volume.id)
        raise InvalidState("Volume", volume.id, current.status if current else "deleted", {volume.status})
    if fields.get("attach_status") == AttachStatus.DETACHED and volume.attachments:
        # Cinder drops every attachment row of a volume reset to detached; the status just set stays.
        ids = [a.id for a in volume.attachments]
        ports.attachments.remove(ids, volume.id, lambda status, _migration, _left: (status, AttachStatus.DETACHED))


def _validated(status: str | None, attach_status: str | None, migration_status: str | None) -> dict[str, Any]:
    if not (status or attach_status or migration_status):
        raise InvalidInput("Must specify 'status', 'attach_status' or 'migration_status' for update.")
    fields: dict[str, Any] = {}
    if status:
        fields["status"] = _one_of("Volume status", status.lower(), RESETTABLE)
        if fields["status"] in _NOT_A_TARGET:
            raise InvalidInput(f"Cannot reset-state to {fields['status']}")
    if attach_status:
        fields["attach_status"] = _one_of("Volume attach status", attach_status.lower(), _ATTACH_VALUES)
    if migration_status:
        value = migration_status.lower()
        known = (*MigrationStatus, "none")
        fields["migration_status"] = None if _one_of("Volume migration status", value, known) == "none" else value
    return fields


def _one_of(what: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(f"{what}: {value} is invalid, valid statuses are: {tuple(str(a) for a in allowed)}.")
    return value

"""The legacy detach flow: ``os-begin_detaching``, ``os-roll_detaching``, ``os-detach``,
``os-terminate_connection``, and an admin's ``os-force_detach``.

Every path that removes an attachment goes through the detach-safety rule of
``domain.attachment`` (bug #2004555) and recomputes the volume's status from the
attachments left.
"""

from __future__ import annotations

from firebrick.domain.attachment.delete import remove
from firebrick.domain.attachment.rules import check_removable
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.attach import unreserve
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.errors import InvalidInput, InvalidState

__all__ = ["begin_detaching", "detach", "force_detach", "roll_detaching", "terminate_connection"]


def begin_detaching(ports: Ports, caller: Caller, volume_id: str) -> None:
    """An attached ``in-use`` volume becomes ``detaching``; a migrating one stays as it is.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidState: any other volume.
    """
    volume = visible_volume(ports, caller, volume_id)
    if volume.attach_status == AttachStatus.ATTACHED and volume.migrating:
        return  # Cinder: a volume whose disk compute swaps is not shown detaching; migration_status says it
    movable = volume.attach_status == AttachStatus.ATTACHED
    if not (movable and ports.volumes.transition(volume.id, {VolumeStatus.IN_USE}, VolumeStatus.DETACHING)):
        raise InvalidState(
            "Volume", volume.id, volume.status, {VolumeStatus.IN_USE},
            message=f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status "
            f"must be 'attached' to detach. Currently: status: '{volume.status}', attach_status: "
            f"'{volume.attach_status}.'",
        )  # fmt: skip


def roll_detaching(ports: Ports, caller: Caller, volume_id: str) -> None:
    """``detaching`` goes back to ``in-use``; any other status is left alone."""
    volume = visible_volume(ports, caller, volume_id)
    ports.volumes.transition(volume.id, {VolumeStatus.DETACHING}, VolumeStatus.IN_USE)


def detach(ports: Ports, caller: Caller, volume_id: str, attachment_id: str | None) -> None:
    """Remove one attachment (the only one when no id is given); the volume's status follows what is left.

    Raises:
        NotFound: the caller cannot see the volume, or no such attachment.
        InvalidInput: the attachment is another volume's, or several exist and none was named.
        Conflict: a compute host still uses the attachment.
    """
    volume = visible_volume(ports, caller, volume_id)
    chosen = check_removable(ports, caller, volume, attachment_id)
    if chosen is None:
        # Nothing attached: Cinder's manager just marks the volume detached.
        remove(ports, volume.id, [])
        return
    if attachment_id is None and len(volume.attachments) > 1:
        raise InvalidInput(
            "Invalid volume: Detach volume failed: volume has more than one attachment and no attachment id was given."
        )
    remove(ports, volume.id, [chosen.id])


def terminate_connection(ports: Ports, caller: Caller, volume_id: str) -> None:
    """A host disconnected: allowed under the detach-safety rule, then the reservation (if any) is dropped."""
    volume = visible_volume(ports, caller, volume_id)
    check_removable(ports, caller, volume, None)
    unreserve(ports, caller, volume.id)


def force_detach(ports: Ports, caller: Caller, volume_id: str, attachment_id: str | None) -> None:
    """An admin's way out of a failed attach or detach, whatever the volume's status.

    Raises as ``detach`` does.
    """
    terminate_connection(ports, caller, volume_id)
    detach(ports, caller, volume_id, attachment_id)

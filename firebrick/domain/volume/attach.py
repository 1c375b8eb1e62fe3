"""The legacy attach flow of the volume actions: ``os-reserve``, ``os-unreserve`` and ``os-attach``.

A client that attaches this way (an old Nova, a bare-metal host, tempest)
reserves the volume, connects to it itself and then records the attachment with
``os-attach``; the attachment API of 3.27+ (``domain.attachment``) replaces it.
"""

from __future__ import annotations

import uuid

from firebrick.clock import utcnow
from firebrick.domain.model import Attachment, Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.errors import InvalidInput, InvalidState

__all__ = ["attach", "reserve", "unreserve"]

_FREE = frozenset({VolumeStatus.AVAILABLE})
_FREE_SHARED = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})
# Where os-attach may land: a reserved (os-reserve) or free volume, or one this server already holds.
_ATTACHABLE = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.ATTACHING, VolumeStatus.RESERVED})


def reserve(ports: Ports, caller: Caller, volume_id: str) -> None:
    """``available`` (or ``in-use`` when multiattach) becomes ``attaching``.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidState: the volume is not free (reserving twice is refused).
    """
    volume = visible_volume(ports, caller, volume_id)
    expected = _FREE_SHARED if volume.multiattach else _FREE
    if not ports.volumes.transition(volume.id, expected, VolumeStatus.ATTACHING):
        current = ports.volumes.get(volume.id)
        status = current.status if current else "deleted"
        raise InvalidState(
            "Volume", volume.id, status, expected,
            message=f"Invalid volume: Volume status must be available to reserve, but the status is {status}.",
        )  # fmt: skip


def unreserve(ports: Ports, caller: Caller, volume_id: str) -> None:
    """``attaching`` goes back to ``in-use`` if something is attached, else ``available``; otherwise nothing."""
    volume = visible_volume(ports, caller, volume_id)
    if volume.status != VolumeStatus.ATTACHING:
        return
    back = VolumeStatus.IN_USE if volume.attached else VolumeStatus.AVAILABLE
    ports.volumes.transition(volume.id, {VolumeStatus.ATTACHING}, back)


def attach(
    ports: Ports,
    caller: Caller,
    volume_id: str,
    mountpoint: str,
    instance_uuid: str | None,
    host_name: str | None,
    mode: str,
) -> None:
    """Record that a server (or host) has the volume at ``mountpoint``; the volume becomes ``in-use``.

    Attaching again to the same server or host changes nothing.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: maintenance, a read-only volume asked for ``rw``, or the volume is
            attached elsewhere and not multiattach.
    """
    volume = visible_volume(ports, caller, volume_id)
    if volume.status == VolumeStatus.MAINTENANCE:
        raise InvalidInput(f"Invalid volume: Volume {volume.id} status must not be maintenance to attach.")
    if volume.readonly and mode != "ro":
        raise InvalidInput(
            f"Invalid attaching mode '{mode}' for volume {volume.id}: the volume is read-only, attach it 'ro'."
        )
    if any(_same_user(a, instance_uuid, host_name) for a in volume.attachments):
        return
    expected = _ATTACHABLE | ({VolumeStatus.IN_USE} if volume.multiattach or volume.migrating else set())
    attachment = Attachment(
        id=str(uuid.uuid4()),
        volume_id=volume.id,
        attach_status=AttachStatus.ATTACHED,
        created_at=utcnow(),
        instance_uuid=instance_uuid,
        attached_host=host_name,
        mountpoint=mountpoint,
        attach_mode=mode,
        attach_time=utcnow(),
    )
    if not ports.attachments.reserve(attachment, expected, VolumeStatus.IN_USE, attach_status=AttachStatus.ATTACHED):
        current = ports.volumes.get(volume.id)
        status = current.status if current else "deleted"
        if status == VolumeStatus.IN_USE:
            raise InvalidInput(
                f"Invalid volume: volume {volume.id} is already attached and multiple attachments are not enabled"
            )
        raise InvalidState("Volume", volume.id, status, expected)


def _same_user(attachment: Attachment, instance_uuid: str | None, host_name: str | None) -> bool:
    if instance_uuid:
        return attachment.instance_uuid == instance_uuid
    return attachment.instance_uuid is None and attachment.attached_host == host_name

"""Creating an attachment (``POST /attachments``, 3.27+): reserve the volume for a server.

The reservation is a compare-and-set of the volume's status to ``reserved``
together with the new row, so two servers racing for one volume cannot both
win (Cinder's pitfall 6). With a connector the host is connected at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from firebrick.clock import utcnow
from firebrick.domain.attachment.update import connect
from firebrick.domain.model import Attachment, Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.errors import InvalidInput

__all__ = ["create_attachment"]

_RESERVABLE = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.DOWNLOADING})
_RESERVABLE_SHARED = _RESERVABLE | {VolumeStatus.IN_USE}
# A server that already holds the volume may attach it again (a live migration's second host, LP#1694530).
_HELD = frozenset({VolumeStatus.IN_USE, VolumeStatus.RESERVED})


def create_attachment(
    ports: Ports,
    caller: Caller,
    volume_id: str,
    instance_uuid: str | None,
    connector: dict[str, Any] | None,
    mode: str | None,
) -> Attachment:
    """Reserve the volume for ``instance_uuid``; connect ``connector``'s host when given.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is in an error status, migrating, or not free to reserve.
    """
    volume = visible_volume(ports, caller, volume_id)
    if volume.migrating and volume.migration_source is None:
        # Its bytes are being copied to another pool: a guest writing now would lose those writes.
        # (A migration's destination is attached by the compute side's swap, on purpose.)
        raise InvalidInput(f"Invalid volume: Volume {volume.id} is migrating; it cannot be attached now.")
    if "error" in volume.status:
        raise InvalidInput(
            "Invalid volume: Volume attachments can not be created if the volume is in an error state. "
            f"The Volume {volume.id} currently has a status of: {volume.status} "
        )
    attachment = Attachment(
        id=str(uuid.uuid4()),
        volume_id=volume.id,
        attach_status=AttachStatus.RESERVED,
        created_at=utcnow(),
        instance_uuid=instance_uuid,
        attach_mode="ro" if volume.readonly else (mode or "null"),
    )
    expected = _RESERVABLE_SHARED if volume.multiattach else _RESERVABLE
    if not ports.attachments.reserve(attachment, expected, VolumeStatus.RESERVED):
        current = ports.volumes.get(volume.id)
        status = current.status if current else "deleted"
        held = current is not None and any(a.instance_uuid == instance_uuid for a in current.attachments)
        if not (status in _HELD and instance_uuid and held and ports.attachments.reserve(attachment, {status}, status)):
            raise InvalidInput(
                f"Invalid volume: Volume {volume.id} status must be available or downloading to reserve, "
                f"but the current status is {status}."
            )
    if connector:
        return connect(ports, caller, attachment.id, connector)
    return attachment

"""Connecting a host to a reserved volume (``PUT /attachments/{id}`` with a connector).

The answer carries ``connection_info``: what the host opens (for the file
backend, the volume's file and its format).
"""

from __future__ import annotations

from typing import Any

from firebrick.domain.attachment.rules import connection_info, not_found
from firebrick.domain.model import Attachment, Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.errors import Conflict

__all__ = ["connect"]

# The volume shows ``attaching`` while a host connects, unless another server already uses it.
_TO_ATTACHING = frozenset({VolumeStatus.RESERVED, VolumeStatus.AVAILABLE, VolumeStatus.ATTACHING})


def connect(ports: Ports, caller: Caller, attachment_id: str, connector: dict[str, Any]) -> Attachment:
    """Record the host's connector and hand back the attachment with its connection info.

    Raises:
        NotFound: no such attachment for the caller.
        Conflict: the volume is in an error status, or a second host would share a
            volume that is not multiattach.
    """
    attachment = ports.attachments.get(attachment_id, scope(caller))
    volume = ports.volumes.get(attachment.volume_id) if attachment else None
    if attachment is None or volume is None:
        raise not_found(attachment_id)
    if "error" in volume.status:
        raise Conflict(f"Invalid volume: Volume {volume.id} is in an error state ({volume.status}).")
    others = [a for a in volume.attachments if a.id != attachment.id and a.connection_info]
    if others and not volume.multiattach:
        raise Conflict(f"Invalid volume: duplicate connectors detected on volume {volume.id}")
    mode = attachment.attach_mode if attachment.attach_mode not in (None, "null") else connector.get("mode", "rw")
    fields = {
        "connector": connector,
        "connection_info": connection_info(ports, volume, mode, attachment.id),
        "attached_host": connector.get("host"),
        "mountpoint": connector.get("mountpoint"),
        "attach_mode": mode,
        "attach_status": AttachStatus.ATTACHING,
    }
    moves = (_TO_ATTACHING, VolumeStatus.ATTACHING) if volume.status in _TO_ATTACHING else None
    if not ports.attachments.update(attachment.id, fields, moves):
        raise Conflict(f"Invalid volume: Volume {volume.id} changed while attachment {attachment.id} was connected.")
    connected = ports.attachments.get(attachment.id)
    if connected is None:
        raise not_found(attachment_id)
    return connected

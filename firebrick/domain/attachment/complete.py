"""Marking an attachment done (``os-complete``, 3.44+): the host has the disk; the volume is ``in-use``."""

from __future__ import annotations

from firebrick.clock import utcnow
from firebrick.domain.attachment.rules import not_found
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.errors import InvalidState

__all__ = ["complete_attachment"]

_ATTACHABLE = frozenset({VolumeStatus.RESERVED, VolumeStatus.ATTACHING, VolumeStatus.IN_USE, VolumeStatus.AVAILABLE})


def complete_attachment(ports: Ports, caller: Caller, attachment_id: str) -> None:
    """Raises NotFound for an unknown attachment, InvalidState when the volume left the attach flow."""
    attachment = ports.attachments.get(attachment_id, scope(caller))
    if attachment is None:
        raise not_found(attachment_id)
    fields = {"attach_status": AttachStatus.ATTACHED, "attach_time": attachment.attach_time or utcnow()}
    moves = (_ATTACHABLE, VolumeStatus.IN_USE)
    if not ports.attachments.update(attachment.id, fields, moves, attach_status=AttachStatus.ATTACHED):
        volume = ports.volumes.get(attachment.volume_id)
        raise InvalidState("Volume", attachment.volume_id, volume.status if volume else "deleted", _ATTACHABLE)

"""Removing an attachment (``DELETE /attachments/{id}``): the host lets go of the volume.

Guarded by the detach-safety rule (``rules.check_removable``); the volume's
status is then recomputed from the attachments left, in the same transaction
as the row's removal.
"""

from __future__ import annotations

from firebrick.domain.attachment.rules import check_removable, not_found, settle
from firebrick.domain.model import Attachment, Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope

__all__ = ["delete_attachment", "remove"]


def delete_attachment(ports: Ports, caller: Caller, attachment_id: str) -> tuple[Attachment, ...]:
    """Remove the attachment; returns the volume's attachments that are left.

    Raises:
        NotFound: no such attachment for the caller.
        Conflict: a compute host still uses it and the caller is not the compute service.
    """
    attachment = ports.attachments.get(attachment_id, scope(caller))
    volume = ports.volumes.get(attachment.volume_id) if attachment else None
    if attachment is None or volume is None:
        raise not_found(attachment_id)
    check_removable(ports, caller, volume, attachment.id)
    return remove(ports, volume.id, [attachment.id])


def remove(ports: Ports, volume_id: str, attachment_ids: list[str]) -> tuple[Attachment, ...]:
    """Drop attachment rows and settle the volume's status; the rows' hosts hold no export to undo
    (a file backend's connection is the file itself)."""
    left = ports.attachments.remove(attachment_ids, volume_id, settle)
    return left or ()

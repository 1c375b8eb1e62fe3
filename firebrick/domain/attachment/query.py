"""Listing and showing attachments; a caller sees those of the volumes it can see (bug #2138566)."""

from __future__ import annotations

from firebrick.domain.attachment.rules import not_found
from firebrick.domain.model import Attachment, Caller, Page
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope

__all__ = ["list_attachments", "show_attachment"]


def list_attachments(ports: Ports, caller: Caller, page: Page, all_projects: bool) -> list[Attachment]:
    return ports.attachments.find(page, None if all_projects and caller.is_admin else caller.project_id)


def show_attachment(ports: Ports, caller: Caller, attachment_id: str) -> Attachment:
    """Raises NotFound for an unknown attachment or one of another project's volume."""
    found = ports.attachments.get(attachment_id, scope(caller))
    if found is None:
        raise not_found(attachment_id)
    return found

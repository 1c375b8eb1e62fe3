"""Deactivating an image (its data can no longer be read by non-admins) and reactivating it."""

from __future__ import annotations

from firebrick.domain.image._lookup import visible_image
from firebrick.domain.image.states import ImageStatus
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import NotPermitted

__all__ = ["deactivate_image", "reactivate_image"]


def deactivate_image(ports: Ports, caller: Caller, image_id: str) -> None:
    """Move an active image to ``deactivated``; one already deactivated stays so.

    Raises:
        NotFound: the caller cannot see the image.
        NotPermitted: the image is neither active nor deactivated (Glance's 403).
    """
    _move(ports, caller, image_id, ImageStatus.ACTIVE, ImageStatus.DEACTIVATED, "deactivate")


def reactivate_image(ports: Ports, caller: Caller, image_id: str) -> None:
    """Move a deactivated image back to ``active``; an active one stays so.

    Raises:
        NotFound: the caller cannot see the image.
        NotPermitted: the image is neither deactivated nor active.
    """
    _move(ports, caller, image_id, ImageStatus.DEACTIVATED, ImageStatus.ACTIVE, "reactivate")


def _move(ports: Ports, caller: Caller, image_id: str, source: ImageStatus, target: ImageStatus, verb: str) -> None:
    image, service = visible_image(ports, caller, image_id)
    if not service.records.transition(image.id, {source, target}, target):
        current = service.records.get(image.id)
        status = current.status if current else image.status
        raise NotPermitted(f"Not allowed to {verb} image in status '{status}'")

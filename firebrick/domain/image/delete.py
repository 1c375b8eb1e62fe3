"""Deleting an image: its record and its data, unless it is protected."""

from __future__ import annotations

from firebrick.domain.image._lookup import visible_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import NotPermitted

__all__ = ["delete_image"]


def delete_image(ports: Ports, caller: Caller, image_id: str) -> None:
    """Remove an image the caller may see. An upload in progress fails when it tries to finish.

    The record goes first: an image is never listed without its data, and data left
    behind by a crash between the two steps belongs to no record (and is removed when
    the id is next used, which never happens for a uuid).

    Raises:
        NotFound: the caller cannot see the image.
        NotPermitted: the image is protected.
    """
    image, service = visible_image(ports, caller, image_id)
    if image.protected:
        raise NotPermitted(f"Image {image.id} is protected and cannot be deleted.")
    service.records.delete(image.id)
    service.files.delete(image.id)

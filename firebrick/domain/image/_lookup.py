"""Who may see which image.

An image is visible to its owner's project, to everyone when it is public or
community, and to admins always. (Shared images are visible to their owner
only: firebrick has no image members.) An image the caller may not see is
"not found", never "forbidden".
"""

from __future__ import annotations

from firebrick.domain.image.states import Visibility
from firebrick.domain.model import Caller, Image
from firebrick.domain.ports import ImagePorts, Ports
from firebrick.errors import InvalidInput, NotFound

__all__ = ["image_not_found", "may_see", "reach", "visible_image"]


def image_not_found(image_id: str) -> NotFound:
    """Glance's answer for an image that does not exist or that the caller may not see."""
    return NotFound("Image", image_id, f"No image found with ID {image_id}")


def may_see(caller: Caller, image: Image) -> bool:
    """Whether the caller may see the image (the rule of the module docstring)."""
    if caller.is_admin or image.owner == caller.project_id:
        return True
    return image.visibility in (Visibility.PUBLIC, Visibility.COMMUNITY)


def visible_image(ports: Ports, caller: Caller, image_id: str) -> tuple[Image, ImagePorts]:
    """The image, if the caller may see it, and the image service it lives in.

    Raises:
        NotFound: when it does not exist or the caller may not see it (one answer for both).
    """
    service = ports.image_service()
    image = service.records.get(image_id)
    if image is None or not may_see(caller, image):
        raise image_not_found(image_id)
    return image, service


def reach(caller: Caller, visibility: str | None) -> list[tuple[frozenset[str] | None, str | None]] | None:
    """Which images a listing may show: (visibilities, owner) pairs, any of which admits an
    image; None for no limit (an admin listing without a visibility filter).

    Glance's rules: without a filter a project sees its own images and public ones
    (community images only when asked for); ``private`` and ``shared`` mean one's own.

    Raises:
        InvalidInput: for a visibility Glance does not know.
    """
    if visibility not in (None, "all", *Visibility):
        raise InvalidInput(f"Invalid visibility value: {visibility}")
    if caller.is_admin:
        return None if visibility in (None, "all") else [(frozenset({visibility}), None)]
    own, public, community = caller.project_id, frozenset({Visibility.PUBLIC}), frozenset({Visibility.COMMUNITY})
    if visibility is None:
        return [(None, own), (public, None)]
    if visibility == "all":
        return [(None, own), (public | community, None)]
    if visibility in (Visibility.PUBLIC, Visibility.COMMUNITY):
        return [(frozenset({visibility}), None)]
    return [(frozenset({visibility}), own)]

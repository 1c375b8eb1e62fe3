"""Reading images: one by id, or a page of those the caller may see."""

from __future__ import annotations

from firebrick.domain.image._lookup import may_see, reach, visible_image
from firebrick.domain.model import Caller, Image, Page
from firebrick.domain.ports import Ports
from firebrick.errors import InvalidInput

__all__ = ["find_visible", "list_images", "show_image"]


def show_image(ports: Ports, caller: Caller, image_id: str) -> Image:
    """Raises NotFound when the image does not exist or the caller may not see it."""
    return visible_image(ports, caller, image_id)[0]


def find_visible(ports: Ports, caller: Caller, image_id: str) -> Image | None:
    """The image, or None when it does not exist or the caller may not see it."""
    image = ports.image_service().records.get(image_id)
    return image if image is not None and may_see(caller, image) else None


def list_images(ports: Ports, caller: Caller, page: Page, visibility: str | None = None) -> list[Image]:
    """A page of the images the caller may see, filtered by ``visibility`` as Glance does.

    Hidden images (``os_hidden``) are left out unless the page's filters ask for them.

    Raises:
        InvalidInput: for an unknown visibility, or a marker naming no image the caller sees.
    """
    records = ports.image_service().records
    if page.marker is not None:
        marker = records.get(page.marker)
        if marker is None or not may_see(caller, marker):
            raise InvalidInput(f"Invalid marker. Image {page.marker} could not be found.")
    filters = {"os_hidden": False, **page.filters}
    return records.find(Page(filters, page.sort, page.limit, page.marker), reach(caller, visibility))

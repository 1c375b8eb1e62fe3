"""Creating a volume from an image (``imageRef``): finding the image, whether it fits,
where the worker reads it from, and what the volume records of it.

The checks are Cinder's, with its messages: the reference is an image id (or the
last segment of an image URL) the caller may see, else the name of exactly one
such image; the image must be ``active``; the volume must hold the image's data,
its virtual size and its ``min_disk``.
"""

from __future__ import annotations

from firebrick.domain.image.query import find_visible, list_images
from firebrick.domain.image.states import ImageStatus
from firebrick.domain.model import Caller, Image, Page
from firebrick.domain.ports import Ports
from firebrick.errors import BackendError, Conflict, InvalidInput
from firebrick.storage.base import IMAGE_FORMATS, GiB, ImageSource

__all__ = ["find_image", "image_source", "needed_size", "volume_image_metadata"]


def find_image(ports: Ports, caller: Caller, image_ref: str) -> Image:
    """The image ``image_ref`` names for the caller.

    Raises:
        InvalidInput: no image the caller may see has that id or name (Cinder's 400).
        Conflict: several such images have that name.
    """
    image_id = image_ref.rsplit("/", 1)[-1]
    image = find_visible(ports, caller, image_id) if image_id else None
    if image is not None:
        return image
    named = list_images(ports, caller, Page(filters={"name": image_ref}, limit=2))
    if len(named) > 1:
        raise Conflict(f"Multiple matches found for '{image_ref}', use an ID to be more specific.")
    if not named:
        raise InvalidInput("Invalid image identifier or unable to access requested image.")
    return named[0]


def needed_size(image: Image, size: int | None) -> int:
    """The volume size to create: ``size`` if the image fits in it, else (when no size
    was asked for) the least size that holds it.

    Raises:
        InvalidInput: the image is not active, has a format no volume can be made
            from, or does not fit in ``size`` GiB.
    """
    if image.status != ImageStatus.ACTIVE:
        raise InvalidInput(f"Invalid input received: Image {image.id} is not active.")
    if IMAGE_FORMATS.get(image.disk_format or "") is None:
        raise InvalidInput(f"Image {image.id} is unacceptable: disk format {image.disk_format} is not supported.")
    data_gb, virtual_gb = _gib(image.size), _gib(image.virtual_size)
    if size is None:
        return max(data_gb, virtual_gb, image.min_disk, 1)
    if data_gb > size:
        raise InvalidInput(
            f"Invalid input received: Size of specified image {data_gb}GB is larger than volume size {size}GB."
        )
    if size < image.min_disk:
        raise InvalidInput(
            f"Invalid input received: Volume size {size}GB cannot be smaller than the image minDisk size "
            f"{image.min_disk}GB."
        )
    if virtual_gb > size:
        raise InvalidInput(
            f"Image {image.id} is unacceptable: Image virtual size is {virtual_gb}GB and doesn't fit in a volume "
            f"of size {size}GB."
        )
    return size


def image_source(ports: Ports, image_id: str) -> tuple[ImageSource, Image]:
    """Where the worker copies an image from, read with the image's recorded format.

    Raises:
        BackendError: the image is gone or no longer active (deleted or deactivated
            after the create was accepted).
    """
    service = ports.image_service()
    image = service.records.get(image_id)
    if image is None or image.status != ImageStatus.ACTIVE:
        raise BackendError(f"image {image_id} is no longer available")
    fmt = IMAGE_FORMATS.get(image.disk_format or "")
    if fmt is None:
        raise BackendError(f"image {image_id} has disk format {image.disk_format}, which cannot be copied")
    virtual = image.virtual_size if image.virtual_size is not None else image.size or 0
    return ImageSource(service.files.path(image.id), fmt, virtual), image


def volume_image_metadata(image: Image) -> dict[str, str]:
    """What a volume made from ``image`` shows as ``volume_image_metadata`` (Cinder's
    volume_glance_metadata): the image's custom properties and its core attributes."""
    core = {
        "image_id": image.id,
        "image_name": image.name or "",
        "checksum": image.checksum or "",
        "container_format": image.container_format or "",
        "disk_format": image.disk_format or "",
        "min_disk": str(image.min_disk),
        "min_ram": str(image.min_ram),
        "size": str(image.size or 0),
    }
    return {**image.properties, **core}


def _gib(size: int | None) -> int:
    return -(-(size or 0) // GiB)

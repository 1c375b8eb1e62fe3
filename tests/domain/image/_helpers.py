"""Small helpers for the image domain tests."""

from __future__ import annotations

from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.data import upload_data
from firebrick.domain.model import Caller, Image
from firebrick.domain.ports import Ports


def active_image(ports: Ports, caller: Caller, data: bytes = b"x" * 4096, **fields: object) -> Image:
    """An image with ``data`` uploaded (raw, bare unless ``fields`` say otherwise)."""
    spec = {"disk_format": "raw", "container_format": "bare", **fields}
    image = create_image(ports, caller, ImageSpec(**spec))  # type: ignore[arg-type]
    return upload_data(ports, caller, image.id, [data])

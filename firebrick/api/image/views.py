"""Rendering images as Glance v2 shows them: core attributes, then custom properties at the top level."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firebrick.domain.model import Image

__all__ = ["image_view", "timestamp"]


def timestamp(value: datetime) -> str:
    """Glance's form: seconds, a ``Z``, no fraction."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_view(image: Image) -> dict[str, Any]:
    body: dict[str, Any] = dict(image.properties)
    body.update(
        id=image.id,
        name=image.name,
        status=image.status,
        visibility=image.visibility,
        protected=image.protected,
        os_hidden=image.os_hidden,
        owner=image.owner,
        disk_format=image.disk_format,
        container_format=image.container_format,
        size=image.size,
        virtual_size=image.virtual_size,
        checksum=image.checksum,
        os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value,
        min_disk=image.min_disk,
        min_ram=image.min_ram,
        tags=list(image.tags),
        created_at=timestamp(image.created_at),
        updated_at=timestamp(image.updated_at or image.created_at),
        self=f"/v2/images/{image.id}",
        file=f"/v2/images/{image.id}/file",
        schema="/v2/schemas/image",
    )
    return body

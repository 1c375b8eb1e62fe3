"""Creating an image record (``POST /v2/images``): a ``queued`` image with no data yet.

An upload (``PUT .../file``, see ``data``) or an upload from a volume (see
``domain.volume.upload_image``) gives it data and makes it ``active``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from firebrick.clock import utcnow
from firebrick.domain.image.attributes import check_property_name
from firebrick.domain.image.states import ImageStatus, Visibility
from firebrick.domain.model import Caller, Image
from firebrick.domain.ports import Ports
from firebrick.errors import Conflict, NotPermitted

__all__ = ["ImageSpec", "create_image", "new_image"]


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What a create asks for; values are already of the right types and ranges."""

    name: str | None = None
    id: str | None = None
    visibility: str = Visibility.SHARED  # Glance's default since Ocata
    protected: bool = False
    os_hidden: bool = False
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    tags: tuple[str, ...] = ()
    owner: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


def new_image(ports: Ports, caller: Caller, spec: ImageSpec) -> Image:
    """The record of a new queued image, owned by the caller's project unless ``spec`` names an owner."""
    return Image(
        id=spec.id or str(uuid.uuid4()),
        owner=spec.owner or caller.project_id,
        status=ImageStatus.QUEUED,
        visibility=spec.visibility,
        created_at=utcnow(),
        name=spec.name,
        protected=spec.protected,
        os_hidden=spec.os_hidden,
        disk_format=spec.disk_format,
        container_format=spec.container_format,
        min_disk=spec.min_disk,
        min_ram=spec.min_ram,
        node=ports.node,
        tags=tuple(dict.fromkeys(spec.tags)),
        properties=dict(spec.properties),
    )


def create_image(ports: Ports, caller: Caller, spec: ImageSpec) -> Image:
    """Record a new image in ``queued``.

    Raises:
        NotPermitted: a custom property is read-only or reserved, or a non-admin names
            another project as the owner.
        InvalidInput: a property name is empty or too long.
        Conflict: an image with the requested id exists.
    """
    for name in spec.properties:
        check_property_name(name)
    if spec.owner not in (None, caller.project_id) and not caller.is_admin:
        raise NotPermitted(f"You are not permitted to create images owned by '{spec.owner}'.")
    records = ports.image_service().records
    if spec.id is not None and records.get(spec.id) is not None:
        raise Conflict(f"Image with identifier {spec.id} already exists!")
    image = new_image(ports, caller, spec)
    records.insert(image)
    return image

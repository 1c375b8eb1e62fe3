"""Changing an image (``PATCH /v2/images/{id}``): JSON-patch operations on its attributes.

Operations apply in order and the result is written at once (all or nothing).
Glance's rules: read-only and reserved attributes cannot be named (403);
core attributes cannot be removed (403), and the formats change only while
the image is ``queued`` (403); a custom property must exist to be replaced or
removed (409), and, with the v2.0 patch media type only, must not exist to be
added (409); with v2.1 "add" of an existing property replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from firebrick.domain.image._lookup import image_not_found, visible_image
from firebrick.domain.image.attributes import CORE, check_property_name
from firebrick.domain.image.states import ImageStatus
from firebrick.domain.model import Caller, Image
from firebrick.domain.ports import Ports
from firebrick.errors import Conflict, NotPermitted

__all__ = ["PatchOp", "update_image"]

_FORMATS = ("disk_format", "container_format")


@dataclass(frozen=True, slots=True)
class PatchOp:
    """One operation: ``op`` is add, replace or remove; ``name`` the attribute; ``value``
    already of the attribute's type (a list of strings for tags, a string for custom ones)."""

    op: str
    name: str
    value: Any = None


@dataclass(slots=True)
class _Changes:
    fields: dict[str, Any]
    properties: dict[str, str]
    tags: list[str] | None = None


def update_image(
    ports: Ports, caller: Caller, image_id: str, ops: Sequence[PatchOp], strict_add: bool = False
) -> Image:
    """Apply ``ops`` to an image the caller may see; returns the image as it is afterwards.

    Raises:
        NotFound: the caller cannot see the image.
        NotPermitted: an op names a read-only or reserved attribute, removes a core one,
            changes a format of an image that has data, or a non-admin changes the owner.
        Conflict: a custom property to replace or remove does not exist (or, with
            ``strict_add``, one to add does).
    """
    image, service = visible_image(ports, caller, image_id)
    changes = _Changes({}, dict(image.properties))
    for op in ops:
        check_property_name(op.name)
        if op.name in CORE:
            _apply_core(image, caller, op, changes)
        else:
            _apply_custom(op, changes.properties, strict_add)
    updated = {k: v for k, v in changes.properties.items() if image.properties.get(k) != v}
    removed = set(image.properties) - set(changes.properties)
    service.records.update(image.id, changes.fields, updated, removed, changes.tags)
    found = service.records.get(image.id)
    if found is None:
        raise image_not_found(image.id)
    return found


def _apply_core(image: Image, caller: Caller, op: PatchOp, changes: _Changes) -> None:
    if op.op == "remove":
        raise NotPermitted(f"Property {op.name} may not be removed.")
    if op.name in _FORMATS and image.status != ImageStatus.QUEUED and op.value != getattr(image, op.name):
        raise NotPermitted(f"Attribute {op.name} can be only replaced for a queued image.")
    if op.name == "owner" and op.value != image.owner and not caller.is_admin:
        raise NotPermitted("Attribute 'owner' can be changed only by an administrator.")
    if op.name == "tags":
        changes.tags = list(dict.fromkeys(op.value))
    else:
        changes.fields[op.name] = op.value


def _apply_custom(op: PatchOp, properties: dict[str, str], strict_add: bool) -> None:
    present = op.name in properties
    if op.op == "add" and present and strict_add:
        raise Conflict(f"Property {op.name} already present.")
    if op.op in ("replace", "remove") and not present:
        raise Conflict(f"Property {op.name} does not exist.")
    if op.op == "remove":
        del properties[op.name]
    else:
        properties[op.name] = op.value

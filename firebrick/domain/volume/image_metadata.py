"""A volume's image properties (``os-set/unset/show_image_metadata``)."""

from __future__ import annotations

from collections.abc import Mapping

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import metadata_writable_volume, visible_volume
from firebrick.errors import NotFound

__all__ = ["set_image_metadata", "show_image_metadata", "unset_image_metadata"]


def show_image_metadata(ports: Ports, caller: Caller, volume_id: str) -> dict[str, str]:
    """Raises NotFound when the caller cannot see the volume."""
    return visible_volume(ports, caller, volume_id).image_metadata


def set_image_metadata(ports: Ports, caller: Caller, volume_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
    """Merge properties in; returns them all.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is in maintenance or uploading.
    """
    volume = metadata_writable_volume(ports, caller, volume_id)
    ports.volumes.set_image_metadata(volume.id, metadata)
    return show_image_metadata(ports, caller, volume.id)


def unset_image_metadata(ports: Ports, caller: Caller, volume_id: str, key: str) -> None:
    """Remove one property.

    Raises:
        NotFound: no such volume, or the volume has no such property.
        InvalidInput: the volume is in maintenance or uploading.
    """
    volume = metadata_writable_volume(ports, caller, volume_id)
    if not ports.volumes.delete_image_metadata_key(volume.id, key):
        raise NotFound("GlanceMetadata", key, f"Glance metadata for volume/snapshot {volume.id} cannot be found.")

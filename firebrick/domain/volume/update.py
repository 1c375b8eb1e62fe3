"""Changing a volume's name, description and metadata (synchronous)."""

from __future__ import annotations

from collections.abc import Mapping

from firebrick.domain.model import Caller, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import metadata_writable_volume, visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput, NotFound

__all__ = ["delete_metadata_key", "set_metadata", "update_volume"]


def update_volume(
    ports: Ports,
    caller: Caller,
    volume_id: str,
    fields: Mapping[str, str | None],
    metadata: Mapping[str, str] | None = None,
) -> Volume:
    """Set name/description (and replace metadata when given).

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is in maintenance.
    """
    volume = visible_volume(ports, caller, volume_id)
    if volume.status == VolumeStatus.MAINTENANCE:
        raise InvalidInput(f"Invalid volume: Volume {volume_id} is in maintenance and cannot be updated.")
    if fields:
        ports.volumes.update(volume_id, **fields)
    if metadata is not None:
        ports.volumes.set_metadata(volume_id, metadata, replace=True)
    return visible_volume(ports, caller, volume_id)


def set_metadata(
    ports: Ports, caller: Caller, volume_id: str, metadata: Mapping[str, str], replace: bool
) -> dict[str, str]:
    """Merge (or with ``replace``, swap in) metadata; returns the resulting metadata.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is in maintenance or uploading.
    """
    metadata_writable_volume(ports, caller, volume_id)
    ports.volumes.set_metadata(volume_id, metadata, replace=replace)
    return visible_volume(ports, caller, volume_id).metadata


def delete_metadata_key(ports: Ports, caller: Caller, volume_id: str, key: str) -> None:
    """Remove one metadata key.

    Raises:
        NotFound: no such volume, or no such key.
        InvalidInput: the volume is in maintenance or uploading.
    """
    metadata_writable_volume(ports, caller, volume_id)
    if not ports.volumes.delete_metadata_key(volume_id, key):
        raise NotFound("Metadata", key, f"Metadata item was not found for volume {volume_id}, key {key}.")

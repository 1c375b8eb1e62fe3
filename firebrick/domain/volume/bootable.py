"""Marking a volume bootable or not (``os-set_bootable``)."""

from __future__ import annotations

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput

__all__ = ["set_bootable"]


def set_bootable(ports: Ports, caller: Caller, volume_id: str, bootable: bool) -> None:
    """Raises NotFound when the caller cannot see the volume, InvalidInput in maintenance."""
    volume = visible_volume(ports, caller, volume_id)
    if volume.status == VolumeStatus.MAINTENANCE:
        raise InvalidInput(f"Invalid volume: Volume {volume_id} is in maintenance.")
    ports.volumes.update(volume.id, bootable=bootable)

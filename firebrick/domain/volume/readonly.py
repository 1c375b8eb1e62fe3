"""Marking a volume read-only for the hosts it is attached to (``os-update_readonly_flag``)."""

from __future__ import annotations

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidState

__all__ = ["update_readonly_flag"]


def update_readonly_flag(ports: Ports, caller: Caller, volume_id: str, readonly: bool) -> None:
    """Raises NotFound when the caller cannot see the volume, InvalidState unless it is available."""
    volume = visible_volume(ports, caller, volume_id)
    # A compare-and-set onto the same status: the flag changes only while the volume stays available.
    if not ports.volumes.transition(volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.AVAILABLE, readonly=readonly):
        raise InvalidState(
            "Volume", volume.id, volume.status, {VolumeStatus.AVAILABLE},
            message=f"Invalid volume: Volume {volume.id} status must be available to update readonly flag.",
        )  # fmt: skip

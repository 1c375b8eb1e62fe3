"""``os-initialize_connection``: what a host opens to use the volume, without recording an attachment."""

from __future__ import annotations

from typing import Any

from firebrick.domain.attachment.rules import connection_info
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput

__all__ = ["initialize_connection"]


def initialize_connection(ports: Ports, caller: Caller, volume_id: str, connector: dict[str, Any]) -> dict[str, Any]:
    """Raises NotFound when the caller cannot see the volume, InvalidInput when it has no storage yet."""
    volume = visible_volume(ports, caller, volume_id)
    if volume.status == VolumeStatus.MAINTENANCE or volume.host is None:
        raise InvalidInput(f"Invalid volume: Volume {volume.id} cannot be connected in status {volume.status}.")
    mode = "ro" if volume.readonly else str(connector.get("mode") or "rw")
    info = connection_info(ports, volume, mode, None)
    return {**info, "enforce_multipath": bool(connector.get("enforce_multipath", False))}

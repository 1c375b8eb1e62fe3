"""From a block-storage connection to what the hypervisor plugs in, and guest device names."""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from firebrick.domain.model import BlockDeviceMapping
from firebrick.errors import InvalidInput
from firebrick.virt.base import AttachSpec, DiskFormat

__all__ = ["next_device", "spec_for", "specs_of"]


def spec_for(volume_id: str, connection_info: dict[str, Any]) -> AttachSpec:
    """The disk a connection describes; the volume id is its serial, as Nova sets it.

    Raises:
        InvalidInput: a connection this host cannot open (not a local file).
    """
    data = connection_info.get("data", {})
    if connection_info.get("driver_volume_type") != "local" or "device_path" not in data:
        raise InvalidInput(f"Volume {volume_id} has a connection this host cannot attach: {connection_info}")
    return AttachSpec(
        serial=volume_id,
        path=Path(data["device_path"]),
        format=DiskFormat(data.get("format", "raw")),
        read_only=data.get("access_mode") == "ro",
        shared=bool(connection_info.get("multiattach")),
    )


def next_device(mappings: Iterable[BlockDeviceMapping], boot_from_volume: bool) -> str:
    """The first free ``/dev/vdX``, as libvirt picks it (``vda`` is the root disk of an image-booted server)."""
    used = {m.device_name for m in mappings if m.device_name}
    if not boot_from_volume:
        used.add("/dev/vda")
    for letter in string.ascii_lowercase:
        name = f"/dev/vd{letter}"
        if name not in used:
            return name
    raise InvalidInput(
        "The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded."
    )


def specs_of(mappings: Iterable[BlockDeviceMapping]) -> list[AttachSpec]:
    """The disks of the connected mappings, boot volume first, then by device."""
    ordered = sorted(mappings, key=lambda m: (m.boot_index != 0, m.device_name or ""))
    return [spec_for(m.volume_id, m.connection_info) for m in ordered if m.connection_info]

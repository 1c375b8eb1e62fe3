"""The contract every storage backend keeps.

A backend owns one pool: a place where volumes and snapshots live as named
objects. Callers name objects by firebrick ids; how an id maps to a file (or a
LUN) is the backend's business. Every method is safe to repeat with the same
arguments, so a job that crashed half-way can simply run its step again.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "IMAGE_FORMATS",
    "Capacity",
    "DiskFormat",
    "ImageSource",
    "ObjectInfo",
    "SnapshotSource",
    "Source",
    "StorageBackend",
    "VolumeSource",
]

GiB = 1024**3


class DiskFormat(enum.StrEnum):
    RAW = "raw"
    QCOW2 = "qcow2"


# Image disk formats (Glance's names) -> the qemu-img format that reads and writes them
# (Cinder's map: qemu calls VHD "vpc" and Virtuozzo's ploop "parallels").
IMAGE_FORMATS: dict[str, str] = {
    "raw": "raw",
    "qcow2": "qcow2",
    "vmdk": "vmdk",
    "vdi": "vdi",
    "vhd": "vpc",
    "vhdx": "vhdx",
    "ploop": "parallels",
}


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the pool can hold, in bytes."""

    total_bytes: int
    free_bytes: int


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What ``qemu-img info`` (or its equivalent) says of a stored object."""

    format: str
    virtual_size: int
    actual_size: int


@dataclass(frozen=True, slots=True)
class VolumeSource:
    """Create a volume as a copy of another volume's bytes."""

    volume_id: str


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """Create a volume as a copy of a snapshot's bytes."""

    snapshot_id: str


@dataclass(frozen=True, slots=True)
class ImageSource:
    """Create a volume as a copy of an image file's bytes.

    ``format`` is the qemu-img name of the file's format (a value of ``IMAGE_FORMATS``),
    taken from the image's record and never probed; ``virtual_size`` is the size in bytes
    the image's record gives (what the image holds once converted).
    """

    path: Path
    format: str
    virtual_size: int


Source = VolumeSource | SnapshotSource | ImageSource


class StorageBackend(abc.ABC):
    """One pool of volumes; see the module docstring for the idempotency rule."""

    @abc.abstractmethod
    def capacity(self) -> Capacity:
        """Report total and free space of the pool."""

    @abc.abstractmethod
    def create(self, volume_id: str, size_gb: int, fmt: DiskFormat, source: Source | None = None) -> None:
        """Create a volume of ``size_gb`` GiB, empty or copied from ``source``.

        Raises:
            StorageError: when the pool lacks space or the backend command fails.
        """

    @abc.abstractmethod
    def delete(self, volume_id: str) -> None:
        """Remove a volume; removing one that is already gone is not an error."""

    @abc.abstractmethod
    def resize(self, volume_id: str, size_gb: int) -> None:
        """Grow a volume to ``size_gb`` GiB, keeping its bytes.

        Raises:
            StorageError: when the volume is missing or cannot grow.
        """

    @abc.abstractmethod
    def snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """Take a point-in-time copy of a volume under ``snapshot_id``.

        Raises:
            StorageError: when the volume is missing or the copy fails.
        """

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove a snapshot; removing one that is already gone is not an error."""

    @abc.abstractmethod
    def revert(self, volume_id: str, snapshot_id: str) -> None:
        """Make a volume's bytes those of one of its snapshots again.

        Raises:
            StorageError: when the volume or the snapshot is missing, or the copy fails.
        """

    @abc.abstractmethod
    def inspect(self, volume_id: str) -> ObjectInfo:
        """Describe a stored volume.

        Raises:
            StorageError: when the volume is missing or unreadable.
        """

    @abc.abstractmethod
    def export(self, volume_id: str, target: Path, fmt: str) -> None:
        """Write a volume's bytes to the new file ``target`` in qemu-img format ``fmt``.

        Holes stay holes where the format allows; ``target`` is overwritten if it
        exists, so repeating an export is safe. (Importing is ``create`` with an
        ``ImageSource``.)

        Raises:
            StorageError: when the volume is missing, ``fmt`` is not one of
                ``IMAGE_FORMATS``' values, or the conversion fails.
        """

    @abc.abstractmethod
    def connection_info(self, volume_id: str) -> dict[str, Any]:
        """What a host needs to attach the volume: os-brick's ``driver_volume_type`` and ``data``.

        Raises:
            StorageError: when the volume is missing.
        """

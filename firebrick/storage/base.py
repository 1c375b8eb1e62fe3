"""The contract every storage backend keeps.

A backend owns one pool: a place where volumes and snapshots live as named
objects. Callers name objects by firebrick ids; how an id maps to a file (or a
LUN) is the backend's business. Every method is safe to repeat with the same
arguments, so a job that crashed half-way can simply run its step again.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "IMAGE_FORMATS",
    "Capacity",
    "DiskFormat",
    "ImageSource",
    "ObjectInfo",
    "PoolCopySource",
    "PoolObject",
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
class PoolObject:
    """An object in a pool under a name of its own: a volume, or something manage may adopt.

    ``size_gb`` is what it would be as a volume (its virtual size rounded up to whole
    GiB, at least 1); ``volume_id`` is set when the name is the one this backend gives
    volume ``volume_id``; ``refusal`` says why it cannot be adopted (None: it can).
    """

    name: str
    size_gb: int
    format: str | None
    allocated_bytes: int
    volume_id: str | None = None
    refusal: str | None = None


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


@dataclass(frozen=True, slots=True)
class PoolCopySource:
    """Create a volume as a copy of a volume in another pool (a migration).

    ``write(path, fmt)`` is that pool's ``export`` of the volume: it writes the bytes,
    holes kept, into the new file ``path`` in qemu-img format ``fmt`` (the new volume's
    format, so a move from a raw pool to a qcow2 pool converts). ``virtual_size`` is the
    volume's size in bytes.
    """

    write: Callable[[Path, str], None]
    virtual_size: int


Source = VolumeSource | SnapshotSource | ImageSource | PoolCopySource


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

    @abc.abstractmethod
    def pool_objects(self) -> list[PoolObject]:
        """Every object in the pool under a name of its own (volumes too), in name order."""

    @abc.abstractmethod
    def describe(self, name: str) -> PoolObject:
        """Look at one object, as manage would take it in.

        Raises:
            StorageError: when ``name`` is not a plain name in the pool, or nothing has it.
        """

    @abc.abstractmethod
    def adopt(self, name: str, volume_id: str, size_gb: int) -> None:
        """Make the object ``name`` volume ``volume_id`` of ``size_gb`` GiB, keeping its bytes.

        The object is checked again, takes the volume's name and grows to ``size_gb``.
        Repeating an adopt that finished is a no-op; one that fails leaves the object
        as it was.

        Raises:
            StorageError: when the object is missing, cannot be adopted (its refusal),
                or is larger than ``size_gb``.
        """

"""An in-memory backend for tests: the FileBackend contract without any files.

It tracks each object's format and size, not its bytes, and raises the same
``StorageError`` messages as ``FileBackend`` for missing objects, a full pool,
shrinking, and an id reused with a different size or format.

Having no bytes, it exports a volume as a one-line marker file naming the volume,
the format and the size (no qemu-img runs), and a copy from an image reads only
the image's recorded virtual size: the file must exist, its content is ignored.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firebrick.errors import StorageError
from firebrick.storage.base import (
    IMAGE_FORMATS,
    Capacity,
    DiskFormat,
    GiB,
    ImageSource,
    ObjectInfo,
    PoolCopySource,
    PoolObject,
    SnapshotSource,
    Source,
    StorageBackend,
    VolumeSource,
)

__all__ = ["FakeBackend"]


@dataclass(slots=True)
class _Object:
    format: DiskFormat
    size: int


class FakeBackend(StorageBackend):
    """A pool held in two dicts; every object counts its full size as used."""

    def __init__(self, capacity_gb: int = 1000) -> None:
        """Start with an empty pool of ``capacity_gb`` GiB."""
        self._total = capacity_gb * GiB
        self._volumes: dict[str, _Object] = {}
        self._snapshots: dict[str, _Object] = {}
        # Objects under names of their own, as an operator would leave them (see ``place``).
        self._others: dict[str, _Object] = {}

    def capacity(self) -> Capacity:
        """Report the pool size minus the sizes of all volumes and snapshots."""
        used = sum(o.size for o in (*self._volumes.values(), *self._snapshots.values()))
        return Capacity(total_bytes=self._total, free_bytes=max(self._total - used, 0))

    def create(self, volume_id: str, size_gb: int, fmt: DiskFormat, source: Source | None = None) -> None:
        """See ``StorageBackend.create``; repeating a finished create is a no-op."""
        wanted = _Object(fmt, size_gb * GiB)
        existing = self._volumes.get(volume_id)
        if existing is not None and existing != wanted:
            raise StorageError(f"volume {volume_id} already exists with a different size or format")
        if existing is not None:
            return
        if source is not None and self._source(source).size > wanted.size:
            raise StorageError(f"volume {volume_id} cannot be smaller than its source")
        self._require_space(wanted.size)
        self._volumes[volume_id] = wanted

    def delete(self, volume_id: str) -> None:
        """Forget a volume; a missing one is not an error."""
        self._volumes.pop(volume_id, None)

    def resize(self, volume_id: str, size_gb: int) -> None:
        """See ``StorageBackend.resize``; shrinking raises ``StorageError``."""
        volume = self._volume(volume_id)
        size = size_gb * GiB
        if size < volume.size:
            raise StorageError(f"volume {volume_id} cannot shrink below its current size of {volume.size / GiB:g} GiB")
        self._require_space(size - volume.size)
        volume.size = size

    def snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """See ``StorageBackend.snapshot``; repeating a finished snapshot is a no-op."""
        if snapshot_id in self._snapshots:
            return
        volume = self._volume(volume_id)
        self._require_space(volume.size)
        self._snapshots[snapshot_id] = _Object(volume.format, volume.size)

    def revert(self, volume_id: str, snapshot_id: str) -> None:
        """See ``StorageBackend.revert``: the volume takes the snapshot's format and size."""
        self._volume(volume_id)
        snapshot = self._source(SnapshotSource(snapshot_id))
        self._volumes[volume_id] = _Object(snapshot.format, snapshot.size)

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Forget a snapshot; a missing one is not an error."""
        self._snapshots.pop(snapshot_id, None)

    def inspect(self, volume_id: str) -> ObjectInfo:
        """Describe a volume; nothing is ever written, so its actual size is 0."""
        volume = self._volume(volume_id)
        return ObjectInfo(format=volume.format.value, virtual_size=volume.size, actual_size=0)

    def export(self, volume_id: str, target: Path, fmt: str) -> None:
        """See ``StorageBackend.export``; writes a marker line, not the (absent) bytes."""
        volume = self._volume(volume_id)
        if fmt not in IMAGE_FORMATS.values():
            raise StorageError(f"cannot export to unknown image format {fmt!r}")
        target.write_bytes(f"fake {fmt} export of volume {volume_id}: {volume.size} bytes\n".encode())

    def connection_info(self, volume_id: str) -> dict[str, Any]:
        """A connection nothing can use: the fake pool holds no bytes to attach."""
        volume = self._volume(volume_id)
        return {"driver_volume_type": "fake", "data": {"volume_id": volume_id, "format": volume.format.value}}

    def place(self, name: str, fmt: DiskFormat, size_bytes: int) -> None:
        """Put an object in the pool under ``name``, as an operator copying a file in would."""
        self._others[name] = _Object(fmt, size_bytes)

    def pool_objects(self) -> list[PoolObject]:
        """See ``StorageBackend.pool_objects``: volumes as ``volume-<id>``, then placed objects."""
        names = [f"volume-{volume_id}" for volume_id in self._volumes] + list(self._others)
        return [self.describe(name) for name in sorted(names)]

    def describe(self, name: str) -> PoolObject:
        """See ``StorageBackend.describe``; every object here is safe to adopt."""
        found, volume_id = self._named(name)
        size_gb = max(-(-found.size // GiB), 1)
        return PoolObject(name, size_gb, found.format.value, 0, volume_id)

    def adopt(self, name: str, volume_id: str, size_gb: int) -> None:
        """See ``StorageBackend.adopt``: the object moves to the volume's name and grows."""
        if volume_id in self._volumes and name not in self._others and name != f"volume-{volume_id}":
            return  # adopted already
        found, _ = self._named(name)
        if found.size > size_gb * GiB:
            raise StorageError(f"{name} is larger than {size_gb} GiB")
        if name in self._others:
            del self._others[name]
        else:
            del self._volumes[name.removeprefix("volume-")]
        self._volumes[volume_id] = _Object(found.format, size_gb * GiB)

    def _named(self, name: str) -> tuple[_Object, str | None]:
        if name in self._others:
            return self._others[name], None
        volume_id = name.removeprefix("volume-")
        if name.startswith("volume-") and volume_id in self._volumes:
            return self._volumes[volume_id], volume_id
        raise StorageError(f"{name} does not exist in the pool")

    def _volume(self, volume_id: str) -> _Object:
        try:
            return self._volumes[volume_id]
        except KeyError:
            raise StorageError(f"volume {volume_id} does not exist") from None

    def _source(self, source: Source) -> _Object:
        if isinstance(source, VolumeSource):
            return self._volume(source.volume_id)
        if isinstance(source, PoolCopySource):
            # The other pool writes its (marker) export, which raises if its volume is gone.
            with tempfile.TemporaryDirectory() as staging:
                source.write(Path(staging) / "copy", DiskFormat.RAW.value)
            return _Object(DiskFormat.RAW, source.virtual_size)
        if isinstance(source, ImageSource):
            if not source.path.is_file():
                raise StorageError(f"image file {source.path.name} does not exist")
            return _Object(DiskFormat.RAW, source.virtual_size)
        try:
            return self._snapshots[source.snapshot_id]
        except KeyError:
            raise StorageError(f"snapshot {source.snapshot_id} does not exist") from None

    def _require_space(self, need: int) -> None:
        free = self.capacity().free_bytes
        if need > free:
            raise StorageError(f"insufficient free space in pool: need {-(-need // GiB)} GiB, {free // GiB} GiB free")

"""Where volume and snapshot bytes live.

This package owns the storage pool: creating, copying, growing, snapshotting
and deleting volume images, and reporting the pool's capacity. It knows
nothing of projects, quotas or statuses; callers name objects by id and get a
``StorageError`` when the pool cannot do what they ask. ``FileBackend`` keeps
images as files driven through qemu-img; ``FakeBackend`` keeps the same
contract in memory for tests.
"""

from __future__ import annotations

from firebrick.storage.base import (
    Capacity,
    DiskFormat,
    GiB,
    ObjectInfo,
    SnapshotSource,
    Source,
    StorageBackend,
    VolumeSource,
)
from firebrick.storage.fake import FakeBackend
from firebrick.storage.file import FileBackend

__all__ = [
    "Capacity",
    "DiskFormat",
    "FakeBackend",
    "FileBackend",
    "GiB",
    "ObjectInfo",
    "SnapshotSource",
    "Source",
    "StorageBackend",
    "VolumeSource",
]

"""Where volume and snapshot bytes live.

This package owns the storage pool: creating, copying, growing, snapshotting
and deleting volume images, and reporting the pool's capacity. It knows
nothing of projects, quotas or statuses; callers name objects by id and get a
``StorageError`` when the pool cannot do what they ask. ``FileBackend`` keeps
images as files driven through qemu-img; ``FakeBackend`` keeps the same
contract in memory for tests. ``ImageStore`` keeps the Image service's data
files, with their digests.
"""

from __future__ import annotations

from firebrick.storage.base import (
    IMAGE_FORMATS,
    Capacity,
    DiskFormat,
    GiB,
    ImageSource,
    ObjectInfo,
    PoolCopySource,
    SnapshotSource,
    Source,
    StorageBackend,
    VolumeSource,
)
from firebrick.storage.fake import FakeBackend
from firebrick.storage.file import FileBackend
from firebrick.storage.images import ImageData, ImageStore

__all__ = [
    "IMAGE_FORMATS",
    "Capacity",
    "DiskFormat",
    "FakeBackend",
    "FileBackend",
    "GiB",
    "ImageData",
    "ImageSource",
    "ImageStore",
    "ObjectInfo",
    "PoolCopySource",
    "SnapshotSource",
    "Source",
    "StorageBackend",
    "VolumeSource",
]

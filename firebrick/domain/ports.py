"""What the domain needs from the outside world.

Repositories come from ``firebrick.db`` and storage backends from
``firebrick.storage``; the domain sees them only through the values and
methods named here. (The repository classes are referred to at type-check
time only: at run time the domain imports no SQL library.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from firebrick.clock import utcnow
from firebrick.config import QuotaSettings
from firebrick.domain.model import Service
from firebrick.errors import BackendError, InvalidInput
from firebrick.storage.base import DiskFormat, SnapshotSource, StorageBackend, VolumeSource

if TYPE_CHECKING:
    from firebrick.db import (
        AttachmentRepository,
        ImageRepository,
        JobRepository,
        MessageRepository,
        QuotaRepository,
        ServiceRepository,
        SnapshotRepository,
        TypeRepository,
        VolumeRepository,
    )
    from firebrick.storage.images import ImageStore

__all__ = [
    "ComputeEvents",
    "DiskFormat",
    "ImagePorts",
    "Pool",
    "Ports",
    "SnapshotSource",
    "StorageBackend",
    "Usage",
    "VolumeSource",
]


@dataclass(frozen=True, slots=True)
class Usage:
    """A project's consumption: counts and GiB, and per volume type id (count, GiB)."""

    volumes: int = 0
    gigabytes: int = 0
    snapshots: int = 0
    per_type: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pool:
    """A storage backend and where it lives: ``host@backend#pool``."""

    host: str
    backend_name: str
    driver: StorageBackend
    default_format: DiskFormat


@dataclass(frozen=True, slots=True)
class ImagePorts:
    """The Image service's parts: the records, and the files of this node's images."""

    records: ImageRepository
    files: ImageStore


class ComputeEvents(Protocol):
    """The compute service, as the block-storage side tells it about volume changes."""

    def volume_extended(self, volume_id: str, server_ids: Sequence[str]) -> None:
        """Raises BackendError when compute could not be told, or failed to act."""

    def swap_volume(self, server_id: str, old_volume_id: str, new_volume_id: str) -> None:
        """Ask compute to move the server's disk from one volume to the other (a migration).

        Raises BackendError when compute is unreachable or refused.
        """


@dataclass(frozen=True)
class Ports:
    volumes: VolumeRepository
    snapshots: SnapshotRepository
    types: TypeRepository
    quotas: QuotaRepository
    jobs: JobRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    compute: ComputeEvents
    pools: tuple[Pool, ...]
    zone: str
    node: str
    quota_defaults: QuotaSettings
    wake_worker: Callable[[], None] = lambda: None
    # How long an attached extend waits for the guest to confirm the new size; None: it does not wait.
    extend_confirm_timeout: float | None = None
    images: ImagePorts | None = None
    # The registered services, and how long one may go without a heartbeat before it is down.
    services: ServiceRepository | None = None
    service_down_time: int = 60

    def pool(self, host: str | None) -> Pool:
        """The pool a volume lives in.

        Raises:
            InvalidInput: when no configured pool has that host string.
        """
        for pool in self.pools:
            if pool.host == host:
                return pool
        raise InvalidInput(f"no storage pool {host} is configured on this node")

    def backend_service(self, host: str) -> Service | None:
        """The ``cinder-volume`` service of a backend (``host@backend``), if one is registered."""
        if self.services is None:
            return None
        return next((s for s in self.services.find(host, "cinder-volume") if s.host == host), None)

    def is_up(self, service: Service) -> bool:
        """Whether the service has sent a heartbeat within ``service_down_time``."""
        limit = timedelta(seconds=self.service_down_time)
        return service.updated_at is not None and utcnow() - service.updated_at <= limit

    def image_service(self) -> ImagePorts:
        """The Image service's records and files.

        Raises:
            BackendError: when this node was wired without an image service.
        """
        if self.images is None:
            raise BackendError("this node serves no images")
        return self.images

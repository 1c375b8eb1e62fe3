"""Creating a volume: empty, or as a copy of a snapshot, another volume or an image.

``request_create`` validates, charges quota and records the volume as
``creating`` together with its job, in one transaction. ``run_create`` is the
worker step: the backend writes the file, then the status becomes
``available`` or ``error`` with the backend's reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from firebrick.clock import utcnow
from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Image, Job, Volume, VolumeType
from firebrick.domain.ports import DiskFormat, Pool, Ports, SnapshotSource, VolumeSource
from firebrick.domain.volume import from_image
from firebrick.domain.volume.lookup import find_type, scope, visible_volume
from firebrick.domain.volume.states import SnapshotStatus, VolumeStatus
from firebrick.domain.volume_types import backend_name, is_multiattach
from firebrick.errors import BackendError, InvalidInput, NotFound
from firebrick.storage.base import Source

__all__ = ["CREATE", "CreateRequest", "request_create"]

# Which extra spec picks the on-disk format of a type's volumes.
FORMAT_SPEC = "firebrick:disk_format"
_SOURCE_STATUSES = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})


@dataclass(frozen=True, slots=True)
class CreateRequest:
    size: int | None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    image_ref: str | None = None  # an image id (or URL), or the name of one


def request_create(ports: Ports, caller: Caller, request: CreateRequest) -> Volume:
    """Record a new volume in ``creating`` and queue the backend work.

    Raises:
        NotFound: the type, snapshot or source volume does not exist for the caller.
        InvalidInput: bad size, zone or source status; an image the caller cannot see,
            that is not active, or that does not fit.
        Conflict: ``image_ref`` is a name several images have.
        QuotaExceeded: the project would go over a quota (nothing is created).
    """
    volume_type = find_type(ports, request.volume_type, caller)
    image = from_image.find_image(ports, caller, request.image_ref) if request.image_ref else None
    size = from_image.needed_size(image, request.size) if image else _size(ports, caller, request)
    if request.availability_zone not in (None, ports.zone):
        raise InvalidInput(f"Availability zone '{request.availability_zone}' is invalid.")
    volume = Volume(
        id=str(uuid.uuid4()),
        project_id=caller.project_id,
        user_id=caller.user_id,
        size=size,
        status=VolumeStatus.CREATING,
        volume_type_id=volume_type.id,
        availability_zone=ports.zone,
        created_at=utcnow(),
        name=request.name,
        description=request.description,
        host=_place(ports, volume_type).host,
        snapshot_id=request.snapshot_id,
        source_volid=request.source_volid,
        metadata=dict(request.metadata),
        volume_type_name=volume_type.name,
        multiattach=is_multiattach(volume_type),
    )
    limits = quota.limits_for(ports.quota_defaults, ports.quotas.overrides(caller.project_id), [volume_type.name])
    delta = quota.Delta(volume_type.id, volume_type.name, volumes=1, gigabytes=size, volume_size=size)
    job = new_job(ports, CREATE, volume.id, **({"image_id": image.id} if image else {}))
    ports.volumes.insert(volume, job, quota.admission(limits, delta))
    ports.wake_worker()
    return volume


def _size(ports: Ports, caller: Caller, request: CreateRequest) -> int:
    source_size = _source_size(ports, caller, request)
    size = request.size if request.size is not None else source_size
    if size is None or size < 1:
        raise InvalidInput("Invalid input received: Volume size must be an integer and greater than 0.")
    if source_size is not None and size < source_size:
        raise InvalidInput(
            f"Invalid input received: Volume size '{size}'GB cannot be smaller than the source size '{source_size}'GB."
        )
    return size


def _source_size(ports: Ports, caller: Caller, request: CreateRequest) -> int | None:
    if request.snapshot_id is not None:
        snapshot = ports.snapshots.get(request.snapshot_id, scope(caller))
        if snapshot is None:
            raise NotFound("Snapshot", request.snapshot_id)
        if snapshot.status != SnapshotStatus.AVAILABLE:
            raise InvalidInput("Invalid input received: Originating snapshot status must be one of 'available' values")
        return snapshot.size
    if request.source_volid is not None:
        source = visible_volume(ports, caller, request.source_volid)
        if source.status not in _SOURCE_STATUSES:
            raise InvalidInput("Invalid input received: Unable to clone volumes that are in an error state")
        return source.size
    return None


def _place(ports: Ports, volume_type: VolumeType) -> Pool:
    """The pool with the most free space among those the type allows."""
    wanted = backend_name(volume_type)
    candidates = [p for p in ports.pools if wanted in (None, p.backend_name)] or list(ports.pools)
    if len(candidates) == 1:
        return candidates[0]  # nothing to compare: the worker checks the space when it creates
    return max(candidates, key=lambda pool: pool.driver.capacity().free_bytes)


def _format(volume_type: VolumeType, pool: Pool) -> DiskFormat:
    spec = volume_type.extra_specs.get(FORMAT_SPEC)
    return DiskFormat(spec) if spec in tuple(DiskFormat) else pool.default_format


def run_create(ports: Ports, job: Job) -> None:
    """Worker step; safe to repeat (the backend create is idempotent)."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.CREATING:
        ports.jobs.finish(job.id)
        return
    pool = ports.pool(volume.host)
    volume_type = ports.types.get(volume.volume_type_id)
    fmt = _format(volume_type, pool) if volume_type else pool.default_format
    try:
        source, image = _source(ports, volume, job)
        pool.driver.create(volume.id, volume.size, fmt, source)
    except BackendError as error:
        give_up_create(ports, job, str(error))
        return
    if image is not None:  # Cinder marks a volume made from an image bootable, and records the image
        ports.volumes.set_image_metadata(volume.id, from_image.volume_image_metadata(image))
    done: dict[str, Any] = {"bootable": True} if image is not None else {}
    ports.volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.AVAILABLE, done_job=job.id, **done)


def _source(ports: Ports, volume: Volume, job: Job) -> tuple[Source | None, Image | None]:
    """What the new volume copies, if anything (the image comes from the job: its id is not user-writable)."""
    if "image_id" in job.payload:
        return from_image.image_source(ports, str(job.payload["image_id"]))
    if volume.snapshot_id:
        return SnapshotSource(volume.snapshot_id), None
    if volume.source_volid:
        return VolumeSource(volume.source_volid), None
    return None, None


def give_up_create(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the volume ends in ``error``, its file removed, the reason told to its project."""
    volume = ports.volumes.get(job.resource_id)
    if volume is not None and volume.host is not None:
        ports.pool(volume.host).driver.delete(volume.id)
    event = messages.Event.CREATE_VOLUME
    fail(ports, ports.volumes, job.resource_id, {VolumeStatus.CREATING}, VolumeStatus.ERROR, event, reason, job)


CREATE = JobKind("volume.create", run_create, give_up_create)

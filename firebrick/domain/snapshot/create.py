"""Taking a snapshot: a point-in-time copy of a volume's bytes.

``request_create`` checks the volume, charges quota and records the snapshot as
``creating`` with its job; ``run_create`` asks the backend for the copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from firebrick.clock import utcnow
from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job, Snapshot
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope
from firebrick.domain.volume.states import MIGRATION_SETTLED, SnapshotStatus, VolumeStatus
from firebrick.errors import BackendError, InvalidInput, NotFound

__all__ = ["CREATE_SNAPSHOT", "SnapshotRequest", "request_create"]


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    volume_id: str | None
    name: str | None = None
    description: str | None = None
    force: bool | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # From volume API 3.66 an in-use volume needs no ``force`` (and ``force=false`` is refused).
    in_use_without_force: bool = False


def request_create(ports: Ports, caller: Caller, request: SnapshotRequest) -> Snapshot:
    """Record a snapshot in ``creating`` and queue the copy.

    Raises:
        NotFound: no visible volume with that id (a null id too, as Cinder answers).
        InvalidInput: the volume's status does not allow a snapshot.
        QuotaExceeded: snapshots or gigabytes quota would be exceeded.
    """
    volume = ports.volumes.get(request.volume_id, scope(caller)) if request.volume_id else None
    if volume is None:
        raise NotFound("Volume", str(request.volume_id))
    _check_status(volume.id, volume.status, volume.migration_status, request)
    snapshot = Snapshot(
        id=str(uuid.uuid4()),
        project_id=caller.project_id,
        user_id=caller.user_id,
        volume_id=volume.id,
        size=volume.size,
        status=SnapshotStatus.CREATING,
        created_at=utcnow(),
        name=request.name,
        description=request.description,
        metadata=dict(request.metadata),
    )
    volume_type = ports.types.get(volume.volume_type_id)
    type_name = volume_type.name if volume_type else ""
    limits = quota.limits_for(ports.quota_defaults, ports.quotas.overrides(caller.project_id), [type_name])
    delta = quota.Delta(volume.volume_type_id, type_name, snapshots=1, gigabytes=volume.size)
    ports.snapshots.insert(snapshot, new_job(ports, CREATE_SNAPSHOT, snapshot.id), quota.admission(limits, delta))
    ports.wake_worker()
    return snapshot


def _check_status(volume_id: str, status: str, migration_status: str | None, request: SnapshotRequest) -> None:
    if request.in_use_without_force and request.force is False:
        raise InvalidInput("Invalid input received: The 'force' parameter must not be false.")
    allowed = {VolumeStatus.AVAILABLE}
    if request.force or request.in_use_without_force:
        allowed.add(VolumeStatus.IN_USE)
    if status not in allowed:
        raise InvalidInput(
            f"Invalid volume: Volume {volume_id} status must be available or in-use (with force), "
            f"but current status is: {status}."
        )
    if migration_status not in MIGRATION_SETTLED:
        raise InvalidInput(f"Invalid volume: Volume {volume_id} is being migrated.")


def run_create(ports: Ports, job: Job) -> None:
    """Worker step; the backend copy is idempotent, so a crash just repeats it."""
    snapshot = ports.snapshots.get(job.resource_id)
    if snapshot is None or snapshot.status != SnapshotStatus.CREATING:
        ports.jobs.finish(job.id)
        return
    volume = ports.volumes.get(snapshot.volume_id)
    try:
        ports.pool(volume.host if volume else None).driver.snapshot(snapshot.volume_id, snapshot.id)
    except BackendError as error:
        give_up_create(ports, job, str(error))
        return
    ports.snapshots.transition(
        snapshot.id, {SnapshotStatus.CREATING}, SnapshotStatus.AVAILABLE, done_job=job.id, progress="100%"
    )


def give_up_create(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the snapshot ends in ``error``, the reason told to its project."""
    expected, event = {SnapshotStatus.CREATING}, messages.Event.CREATE_SNAPSHOT
    fail(ports, ports.snapshots, job.resource_id, expected, SnapshotStatus.ERROR, event, reason, job)


CREATE_SNAPSHOT = JobKind("snapshot.create", run_create, give_up_create)

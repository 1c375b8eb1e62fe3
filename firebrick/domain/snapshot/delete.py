"""Deleting a snapshot: ``deleting`` with a job, then the backend copy and the row go."""

from __future__ import annotations

from firebrick.domain import messages
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.query import visible_snapshot
from firebrick.domain.volume.states import SnapshotStatus
from firebrick.errors import BackendError, InvalidState

__all__ = ["DELETE_SNAPSHOT", "request_delete"]

_DELETABLE = frozenset({SnapshotStatus.AVAILABLE, SnapshotStatus.ERROR, SnapshotStatus.ERROR_DELETING})


def request_delete(ports: Ports, caller: Caller, snapshot_id: str, force: bool = False) -> None:
    """Start deleting a snapshot.

    Raises:
        NotFound: the caller cannot see it.
        InvalidState: it is not available or error (unless ``force``).
    """
    snapshot = visible_snapshot(ports, caller, snapshot_id)
    expected = {snapshot.status} if force else _DELETABLE
    job = new_job(ports, DELETE_SNAPSHOT, snapshot.id)
    if not ports.snapshots.transition(snapshot.id, expected, SnapshotStatus.DELETING, job=job, override=force):
        raise InvalidState(
            "Snapshot",
            snapshot.id,
            snapshot.status,
            _DELETABLE,
            message="Invalid snapshot: Snapshot status must be available or error and must not be part of a group.",
        )
    ports.wake_worker()


def run_delete(ports: Ports, job: Job) -> None:
    snapshot = ports.snapshots.get(job.resource_id)
    if snapshot is None or snapshot.status != SnapshotStatus.DELETING:
        ports.jobs.finish(job.id)
        return
    volume = ports.volumes.get(snapshot.volume_id)
    try:
        ports.pool(volume.host if volume else None).driver.delete_snapshot(snapshot.id)
    except BackendError as error:
        give_up_delete(ports, job, str(error))
        return
    ports.snapshots.delete(snapshot.id, done_job=job.id)


def give_up_delete(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: ``error_deleting``, the reason told to its project; a new delete may retry."""
    expected, event = {SnapshotStatus.DELETING}, messages.Event.DELETE_SNAPSHOT
    fail(ports, ports.snapshots, job.resource_id, expected, SnapshotStatus.ERROR_DELETING, event, reason, job)


DELETE_SNAPSHOT = JobKind("snapshot.delete", run_delete, give_up_delete)

"""Deleting a volume (and, with ``cascade``, its snapshots).

``request_delete`` checks Cinder's preconditions and moves the volume to
``deleting`` with its job in one transaction; ``run_delete`` removes the
backend objects and then the rows. A backend failure leaves ``error_deleting``
with the reason, from which a new delete may start again.
"""

from __future__ import annotations

from firebrick.domain import messages
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import DELETABLE, SnapshotStatus, VolumeStatus
from firebrick.errors import BackendError, InvalidInput, InvalidState

__all__ = ["DELETE", "REFUSAL", "check_deletable", "request_delete"]

REFUSAL = (
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a "
    "transfer, or be disassociated from snapshots after volume transfer."
)
_SNAPSHOT_DELETABLE = frozenset({SnapshotStatus.AVAILABLE, SnapshotStatus.ERROR})
# Unlike Cinder, a delete that failed may simply be asked for again.
_RETRYABLE = DELETABLE | {VolumeStatus.ERROR_DELETING}


def request_delete(ports: Ports, caller: Caller, volume_id: str, cascade: bool = False, force: bool = False) -> None:
    """Start deleting a volume.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is attached, migrating, has snapshots (without cascade)
            or is in a status that forbids deletion (without force).
    """
    volume = visible_volume(ports, caller, volume_id)
    check_deletable(ports, volume, None if force else _RETRYABLE, cascade)
    expected = {volume.status} if force else _RETRYABLE
    job = new_job(ports, DELETE, volume.id, cascade=cascade)
    if not ports.volumes.transition(volume.id, expected, VolumeStatus.DELETING, job=job, override=force):
        raise InvalidInput(REFUSAL)
    ports.wake_worker()


def check_deletable(ports: Ports, volume: Volume, statuses: frozenset[str] | None, cascade: bool = False) -> None:
    """Cinder's delete preconditions, which os-unmanage (a delete that keeps the bytes) shares.

    ``statuses`` are those the volume may be in (``None``, as with force: any).

    Raises:
        InvalidInput: (``REFUSAL``) the status is not allowed, the volume is attached or
            migrating, or it has snapshots and ``cascade`` is not set.
        InvalidState: with ``cascade``, a snapshot is in a status that cannot be deleted.
    """
    if statuses is not None and volume.status not in statuses:
        raise InvalidInput(REFUSAL)
    if volume.attached or volume.migrating:
        raise InvalidInput(REFUSAL)
    snapshots = ports.snapshots.list_for_volume(volume.id)
    if snapshots and not cascade:
        raise InvalidInput(REFUSAL)
    for snapshot in snapshots:
        if snapshot.status not in _SNAPSHOT_DELETABLE | {SnapshotStatus.DELETING}:
            raise InvalidState("Snapshot", snapshot.id, snapshot.status, _SNAPSHOT_DELETABLE)


def run_delete(ports: Ports, job: Job) -> None:
    """Worker step; every removal below is idempotent, so a crash just repeats it."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.DELETING:
        ports.jobs.finish(job.id)
        return
    try:
        if volume.host is not None:
            driver = ports.pool(volume.host).driver
            for snapshot in ports.snapshots.list_for_volume(volume.id):
                driver.delete_snapshot(snapshot.id)
                ports.snapshots.delete(snapshot.id)
            driver.delete(volume.id)
    except BackendError as error:
        give_up_delete(ports, job, str(error))
        return
    ports.volumes.delete(volume.id, done_job=job.id)


def give_up_delete(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: ``error_deleting``, the reason told to its project; the rows stay for a retry."""
    expected, event = {VolumeStatus.DELETING}, messages.Event.DELETE_VOLUME
    fail(ports, ports.volumes, job.resource_id, expected, VolumeStatus.ERROR_DELETING, event, reason, job)


DELETE = JobKind("volume.delete", run_delete, give_up_delete)

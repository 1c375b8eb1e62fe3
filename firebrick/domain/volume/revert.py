"""Reverting a volume to its latest snapshot (``revert``, microversion 3.40).

``request_revert`` checks that the snapshot is the volume's newest and of the
same size, then moves the volume to ``reverting`` and the snapshot to
``restoring`` together, with the job, in one transaction: unlike Cinder, a
snapshot that cannot move leaves the volume as it was. ``run_revert`` copies the
snapshot back over the volume; on failure the volume goes to ``error`` (its
bytes are whatever the backend left, which for the file backend is the volume
as it was) and the snapshot back to ``available``.
"""

from __future__ import annotations

from firebrick.domain import messages
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import SnapshotStatus, VolumeStatus
from firebrick.errors import BackendError, Conflict, InvalidInput

__all__ = ["REVERT", "request_revert"]

_VOLUME_MOVE = ({VolumeStatus.AVAILABLE}, VolumeStatus.REVERTING)
_SNAPSHOT_MOVE = ({SnapshotStatus.AVAILABLE}, SnapshotStatus.RESTORING)


def request_revert(ports: Ports, caller: Caller, volume_id: str, snapshot_id: str | None) -> None:
    """Start reverting a volume to ``snapshot_id``.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: no snapshots, not the latest one, or the sizes differ.
        Conflict: the volume is not available or the snapshot not available.
    """
    volume = visible_volume(ports, caller, volume_id)
    snapshots = [s for s in ports.snapshots.list_for_volume(volume.id) if s.project_id == volume.project_id]
    if not snapshots:
        raise InvalidInput(f"Invalid input received: Volume {volume.id} doesn't have any snapshots.")
    latest = max(snapshots, key=lambda s: (s.created_at, s.id))
    if snapshot_id != latest.id:
        raise InvalidInput(
            f"Invalid input received: Specified snapshot {snapshot_id} is None or not "
            f"the latest one of volume {volume.id}."
        )
    if volume.size != latest.size:
        raise InvalidInput(
            f"Invalid input received: Volume {volume.id} size {volume.size} is different from snapshot size "
            f"{latest.size}. The volume size must be equal to the snapshot size."
        )
    job = new_job(ports, REVERT, volume.id, snapshot_id=latest.id)
    if not ports.volumes.transition_with_snapshot(volume.id, _VOLUME_MOVE, latest.id, _SNAPSHOT_MOVE, job=job):
        raise Conflict(
            f"Volume {volume.id} status must be available and snapshot {latest.id} status must be available to revert, "
            f"currently {volume.status} and {latest.status}."
        )
    ports.wake_worker()


def run_revert(ports: Ports, job: Job) -> None:
    """Worker step; copying the same snapshot back again is harmless, so a crash just repeats it."""
    volume = ports.volumes.get(job.resource_id)
    snapshot_id = str(job.payload["snapshot_id"])
    if volume is None or volume.status != VolumeStatus.REVERTING:
        ports.jobs.finish(job.id)
        return
    try:
        ports.pool(volume.host).driver.revert(volume.id, snapshot_id)
    except BackendError as error:
        give_up_revert(ports, job, str(error))
        return
    finished = (
        ({VolumeStatus.REVERTING}, VolumeStatus.AVAILABLE),
        ({SnapshotStatus.RESTORING}, SnapshotStatus.AVAILABLE),
    )
    ports.volumes.transition_with_snapshot(volume.id, finished[0], snapshot_id, finished[1], done_job=job.id)


def give_up_revert(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the volume goes to ``error`` (its project told why), the snapshot back to ``available``."""
    ports.snapshots.transition(str(job.payload["snapshot_id"]), {SnapshotStatus.RESTORING}, SnapshotStatus.AVAILABLE)
    expected, event = {VolumeStatus.REVERTING}, messages.Event.REVERT_VOLUME
    fail(ports, ports.volumes, job.resource_id, expected, VolumeStatus.ERROR, event, reason, job)


REVERT = JobKind("volume.revert", run_revert, give_up_revert)

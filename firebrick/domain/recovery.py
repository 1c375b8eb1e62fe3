"""After a restart: nothing may stay in a transitional status.

Jobs that survived in the database are simply run again by the worker (each
step is idempotent). A resource left transitional *without* a job was cut
off between its status change and its job, which cannot happen with the
single-transaction writes, or belongs to a job removed by hand; it is moved to
its error status with a reason rather than left stuck (or, when its action
changes nothing until it completes, back to the status it came from).
"""

from __future__ import annotations

from firebrick.domain import messages
from firebrick.domain.image import data as image_data
from firebrick.domain.jobs import fail
from firebrick.domain.ports import Ports
from firebrick.domain.volume.states import SnapshotStatus, VolumeStatus

__all__ = ["recover"]

_REASON = "interrupted: firebrick restarted while this operation was in progress and it had no job to resume"

# transitional status -> (where it falls back to, what the user is told failed)
_VOLUME_FALLBACK = {
    VolumeStatus.CREATING: (VolumeStatus.ERROR, messages.Event.CREATE_VOLUME),
    VolumeStatus.DELETING: (VolumeStatus.ERROR_DELETING, messages.Event.DELETE_VOLUME),
    VolumeStatus.EXTENDING: (VolumeStatus.ERROR_EXTENDING, messages.Event.EXTEND_VOLUME),
    VolumeStatus.REVERTING: (VolumeStatus.ERROR, messages.Event.REVERT_VOLUME),
    VolumeStatus.MANAGING: (VolumeStatus.ERROR_MANAGING, messages.Event.MANAGE_VOLUME),
}
# transitional status that changes nothing until it completes -> what the user is told failed;
# an orphan goes back to the status it came from (previous_status), as its compensation would.
_VOLUME_RETURNS = {
    VolumeStatus.RETYPING: messages.Event.RETYPE_VOLUME,
    VolumeStatus.UNMANAGING: messages.Event.UNMANAGE_VOLUME,
    VolumeStatus.UPLOADING: messages.Event.COPY_VOLUME_TO_IMAGE,
}
_SNAPSHOT_FALLBACK = {
    SnapshotStatus.CREATING: (SnapshotStatus.ERROR, messages.Event.CREATE_SNAPSHOT),
    SnapshotStatus.DELETING: (SnapshotStatus.ERROR_DELETING, messages.Event.DELETE_SNAPSHOT),
}
# A snapshot a lost revert was copying from is whole: it simply becomes available again.
_SNAPSHOT_SETTLES = {SnapshotStatus.RESTORING: SnapshotStatus.AVAILABLE}


def recover(ports: Ports) -> int:
    """Move orphaned transitional resources to their error status, telling their projects; returns how many."""
    moved = 0
    for volume in ports.volumes.in_status(_VOLUME_FALLBACK):
        if not ports.jobs.for_resource(volume.id):
            status, event = _VOLUME_FALLBACK[VolumeStatus(volume.status)]
            # An extend that never ran releases the size it held.
            moved += fail(ports, ports.volumes, volume.id, {volume.status}, status, event, _REASON, resize_target=None)
    for volume in ports.volumes.in_status(_VOLUME_RETURNS):
        if not ports.jobs.for_resource(volume.id):
            back, event = volume.previous_status or VolumeStatus.ERROR, _VOLUME_RETURNS[VolumeStatus(volume.status)]
            moved += fail(ports, ports.volumes, volume.id, {volume.status}, back, event, _REASON)
    for snapshot in ports.snapshots.in_status(_SNAPSHOT_FALLBACK):
        if not ports.jobs.for_resource(snapshot.id):
            fallback, event = _SNAPSHOT_FALLBACK[SnapshotStatus(snapshot.status)]
            moved += fail(ports, ports.snapshots, snapshot.id, {snapshot.status}, fallback, event, _REASON)
    for snapshot in ports.snapshots.in_status(_SNAPSHOT_SETTLES):
        owner = ports.volumes.get(snapshot.volume_id)
        if owner is None or owner.status != VolumeStatus.REVERTING:  # its revert is over, one way or the other
            settled = _SNAPSHOT_SETTLES[SnapshotStatus(snapshot.status)]
            moved += ports.snapshots.transition(snapshot.id, {snapshot.status}, settled)
    # An image an upload was writing when the process died goes back to queued (Glance's rule).
    moved += image_data.settle_interrupted(ports)
    return moved

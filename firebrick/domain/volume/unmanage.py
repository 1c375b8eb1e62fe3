"""Taking a volume out of firebrick's hands (``os-unmanage``, admin).

An unmanage is a delete in every respect but one: the backend object stays,
byte for byte, for an operator (or a later manage) to take over. Its
preconditions are delete's (``delete.check_deletable``, without force or
cascade and from Cinder's status list only). ``request_unmanage`` moves the
volume to ``unmanaging``, remembering where it came from in
``previous_status``, with its job in one transaction. ``run_unmanage`` removes
the row (its metadata goes with it); since quota is counted from the rows, the
project's usage drops in that same transaction. Nothing on disk is touched,
not even the recorded disk format: a later manage needs it, because a format
must never be guessed from guest-written bytes (see ``storage.file``).
"""

from __future__ import annotations

from firebrick.domain import messages
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job
from firebrick.domain.ports import Ports
from firebrick.domain.volume.delete import REFUSAL, check_deletable
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import DELETABLE, VolumeStatus
from firebrick.errors import InvalidInput

__all__ = ["UNMANAGE", "request_unmanage"]


def request_unmanage(ports: Ports, caller: Caller, volume_id: str) -> None:
    """Start removing a volume from firebrick while keeping its backend object.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the volume is attached, migrating, has snapshots, or is not in one
            of the statuses a delete starts from (Cinder's message for delete).
    """
    volume = visible_volume(ports, caller, volume_id)
    check_deletable(ports, volume, DELETABLE)
    job = new_job(ports, UNMANAGE, volume.id)
    # Expecting exactly the status just read is what makes previous_status true.
    moved = ports.volumes.transition(
        volume.id, {volume.status}, VolumeStatus.UNMANAGING, job=job, previous_status=volume.status
    )
    if not moved:
        raise InvalidInput(REFUSAL)
    ports.wake_worker()


def run_unmanage(ports: Ports, job: Job) -> None:
    """Worker step: forget the volume (row, metadata, job) in one transaction; repeating it is harmless."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.UNMANAGING:
        ports.jobs.finish(job.id)
        return
    ports.volumes.delete(volume.id, done_job=job.id)


def give_up_unmanage(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the volume stays managed, back in the status it came from, its project told why."""
    volume = ports.volumes.get(job.resource_id)
    back = volume.previous_status if volume is not None and volume.previous_status else VolumeStatus.ERROR
    event = messages.Event.UNMANAGE_VOLUME
    fail(ports, ports.volumes, job.resource_id, {VolumeStatus.UNMANAGING}, back, event, reason, job)


UNMANAGE = JobKind("volume.unmanage", run_unmanage, give_up_unmanage)

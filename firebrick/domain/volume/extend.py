"""Growing a volume (``os-extend``).

``request_extend`` checks the new size against the volume, its type's size
limits and the project's quotas, and moves ``available`` to ``extending`` with
its job, all in one transaction: a refused quota leaves the status as it was.
The pending size is held in ``resize_target``, so quota counts it until it
lands. ``run_extend`` grows the backend object, then records the new size and
the original status; a backend failure ends in ``error_extending`` with a user
message, and the size stays as it was.

An attached volume (``in-use``, microversion 3.42) grows the same way; then,
in the same transaction that records the new size, a second job is queued that
sends the compute API a ``volume-extended`` event per attached server, so the
running guest resizes its disk. The size is committed before the event, because
compute reads it back from this API.

What happens next depends on ``Ports.extend_confirm_timeout``:

- ``None`` (OpenStack's behaviour): the volume is back ``in-use`` at once; a
  failed event cannot undo a grown file, so it becomes a user message.
- a number of seconds (the default): the volume stays ``extending`` until the
  compute side reports, through ``os-extend_volume_completion`` (3.71), that
  the guest sees the new size; then it is ``in-use``. A failed event, a reported
  failure, or no report in time gives ``error_extending`` with the old size and
  a user message. The wait is the confirming job's stored deadline, not a thread:
  the job tells compute, puts itself to wait, and runs again only if the deadline
  passes first (then it gives up); the completion ends the job.
"""

from __future__ import annotations

from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, deadline, fail, new_job
from firebrick.domain.model import Caller, Job, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import BackendError, ImageInUse, InvalidInput, InvalidState

__all__ = ["CONFIRM_EXTENDED", "EXTEND", "NOTIFY_EXTENDED", "complete_extend", "request_extend"]

_MIN_SIZE_SPEC, _MAX_SIZE_SPEC = "provisioning:min_vol_size", "provisioning:max_vol_size"
_EXTENDABLE = frozenset({VolumeStatus.AVAILABLE})
_EXTENDABLE_ATTACHED = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})


def request_extend(ports: Ports, caller: Caller, volume_id: str, new_size: int, attached: bool = False) -> None:
    """Start growing a volume to ``new_size`` GiB; ``attached`` also allows an ``in-use`` one.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the new size is not larger, or outside the type's size limits.
        InvalidState: the volume is not available (or in-use, when ``attached``).
        QuotaExceeded: the growth would take the project over a quota (nothing changes).
    """
    volume = visible_volume(ports, caller, volume_id)
    if new_size <= volume.size:
        raise InvalidInput(
            "Invalid input received: New size for extend must be greater than current size. "
            f"(current: {volume.size}, extended: {new_size})."
        )
    _check_type_limits(ports, volume, new_size)
    type_name = volume.volume_type_name or ""
    limits = quota.limits_for(ports.quota_defaults, ports.quotas.overrides(volume.project_id), [type_name])
    delta = quota.Delta(volume.volume_type_id, type_name, gigabytes=new_size - volume.size, volume_size=new_size)
    expected = _EXTENDABLE_ATTACHED if attached else _EXTENDABLE
    job = new_job(ports, EXTEND, volume.id, new_size=new_size, previous_status=volume.status)
    moved = volume.status in expected and ports.volumes.transition(
        volume.id, {volume.status}, VolumeStatus.EXTENDING,
        job=job, admit=quota.admission(limits, delta), resize_target=new_size,
    )  # fmt: skip
    if not moved:
        current = ports.volumes.get(volume.id)
        status = current.status if current else volume.status
        wanted = "('available', 'in-use')" if attached else "'available'"
        raise InvalidState(
            "Volume", volume.id, status, expected,
            message=f"Invalid volume: Volume {volume.id} status must be '{{'status': {wanted}}}' "
            f"to extend, currently {status}.",
        )  # fmt: skip
    ports.wake_worker()


def _check_type_limits(ports: Ports, volume: Volume, new_size: int) -> None:
    volume_type = ports.types.get(volume.volume_type_id)
    specs = volume_type.extra_specs if volume_type else {}
    low, high = specs.get(_MIN_SIZE_SPEC), specs.get(_MAX_SIZE_SPEC)
    if low is not None and low.isdigit() and new_size < int(low):
        raise InvalidInput(f"Invalid input received: Volume size {new_size} is smaller than the type's minimum {low}.")
    if high is not None and high.isdigit() and new_size > int(high):
        raise InvalidInput(f"Invalid input received: Volume size {new_size} is larger than the type's maximum {high}.")


def run_extend(ports: Ports, job: Job) -> None:
    """Worker step; growing to a size already reached is a no-op, so a crash just repeats it."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.EXTENDING:
        ports.jobs.finish(job.id)
        return
    new_size = int(job.payload["new_size"])
    # Only servers get the event: a volume attached to a bare host has no guest to resize (bug #2000724).
    servers = volume.attached_servers
    try:
        ports.pool(volume.host).driver.resize(volume.id, new_size)
    except ImageInUse as error:
        # A running guest holds a qcow2 image: its hypervisor grows it (block_resize) when told of the
        # new size below. With nobody to tell, the extend cannot happen.
        if not servers:
            give_up_extend(ports, job, str(error))
            return
    except BackendError as error:
        give_up_extend(ports, job, str(error))
        return
    if servers and ports.extend_confirm_timeout is not None:
        # The size is recorded now (compute reads it back); the volume stays extending until confirmed.
        confirm = new_job(ports, CONFIRM_EXTENDED, volume.id, servers=servers, old_size=volume.size)
        ports.volumes.transition(
            volume.id, {VolumeStatus.EXTENDING}, VolumeStatus.EXTENDING, job=confirm, done_job=job.id,
            size=new_size, previous_status=job.payload["previous_status"],
        )  # fmt: skip
        ports.wake_worker()
        return
    notify = new_job(ports, NOTIFY_EXTENDED, volume.id, servers=servers) if servers else None
    moved = ports.volumes.transition(
        volume.id, {VolumeStatus.EXTENDING}, job.payload["previous_status"],
        job=notify, done_job=job.id, size=new_size, resize_target=None,
    )  # fmt: skip
    if moved and notify is not None:
        ports.wake_worker()


def give_up_extend(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: ``error_extending`` with the old size; the held size is released."""
    expected, event = {VolumeStatus.EXTENDING}, messages.Event.EXTEND_VOLUME
    error = VolumeStatus.ERROR_EXTENDING
    fail(ports, ports.volumes, job.resource_id, expected, error, event, reason, job, resize_target=None)


def run_notify_extended(ports: Ports, job: Job) -> None:
    """Worker step: tell compute; a failure is the project's message, never a status change."""
    try:
        ports.compute.volume_extended(job.resource_id, job.payload["servers"])
    except BackendError as error:
        give_up_notify_extended(ports, job, str(error))
        return
    ports.jobs.finish(job.id)


def give_up_notify_extended(ports: Ports, job: Job, reason: str) -> None:
    volume = ports.volumes.get(job.resource_id)
    if volume is not None:
        ports.messages.add(messages.new_message(volume.project_id, messages.Event.EXTEND_VOLUME, volume.id, reason))
    ports.jobs.finish(job.id)


def run_confirm_extended(ports: Ports, job: Job) -> None:
    """Worker step: tell compute, then wait (as a stored deadline, holding no thread) for its
    completion; run again at the deadline, it gives up."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.EXTENDING:
        ports.jobs.finish(job.id)
        return
    if "deadline" in job.payload:  # the wait ran out, and no completion ended it
        give_up_confirm_extended(ports, job, "The guest did not confirm the new size in time.")
        return
    try:
        ports.compute.volume_extended(job.resource_id, job.payload["servers"])
    except BackendError as error:
        give_up_confirm_extended(ports, job, str(error))
        return
    timeout = ports.extend_confirm_timeout or 0.0
    ports.jobs.wait(job, timeout, deadline=deadline(timeout))


def give_up_confirm_extended(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: ``error_extending`` with the size the volume had before (the file stays grown)."""
    expected, event = {VolumeStatus.EXTENDING}, messages.Event.EXTEND_VOLUME
    error, old_size = VolumeStatus.ERROR_EXTENDING, int(job.payload["old_size"])
    fail(ports, ports.volumes, job.resource_id, expected, error, event, reason, job,
         size=old_size, resize_target=None, previous_status=None)  # fmt: skip


def complete_extend(ports: Ports, caller: Caller, volume_id: str, error: bool) -> None:
    """The compute side's report on an attached extend (``os-extend_volume_completion``).

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidState: the volume is not extending.
    """
    volume = visible_volume(ports, caller, volume_id)
    pending = [j for j in ports.jobs.for_resource(volume.id) if j.kind == CONFIRM_EXTENDED.name]
    if volume.status != VolumeStatus.EXTENDING or not pending:
        raise InvalidState(
            "Volume", volume.id, volume.status, {VolumeStatus.EXTENDING},
            message=f"Invalid volume: Volume {volume.id} is not waiting for an extend to complete "
            f"(status {volume.status}).",
        )  # fmt: skip
    if error:
        give_up_confirm_extended(ports, pending[0], "Compute service failed to extend volume.")
        return
    back = volume.previous_status or VolumeStatus.IN_USE
    ports.volumes.transition(
        volume.id, {VolumeStatus.EXTENDING}, back, done_job=pending[0].id, resize_target=None, previous_status=None
    )


EXTEND = JobKind("volume.extend", run_extend, give_up_extend)
CONFIRM_EXTENDED = JobKind("volume.confirm_extended", run_confirm_extended, give_up_confirm_extended)
NOTIFY_EXTENDED = JobKind("volume.notify_extended", run_notify_extended, give_up_notify_extended)

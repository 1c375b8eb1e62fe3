"""Changing a volume's type (``os-retype``).

``request_retype`` makes Cinder's checks in Cinder's order: the new type exists
(by name or id), the volume's size is within its limits, a change of
multiattach only on an ``available`` volume, room in the new type's per-type
quota, and then the compare-and-set from ``available`` or ``in-use`` (not
migrating, another type) to ``retyping``, remembering the status in
``previous_status``, with the job, in one transaction that checks the quota
once more.

``run_retype`` then decides whether the new type can live where the volume
is: the two types are alike apart from their names (Cinder retypes those in the
database only), or the new type's ``volume_backend_name`` is absent or names
the volume's pool. If so, the retype completes in one compare-and-set: the
type, ``multiattach`` as the new type says, and the status back to
``previous_status``. Per-type usage is counted from the rows, so that change is
what moves the volume's usage from one type to the other; the new type's
quota is admitted again inside it, so two retypes racing for the last slot
cannot both land. Otherwise the volume has to move to a pool of that backend:
with ``never`` Cinder gives up ("Retype requires migration but is not
allowed."), and so does firebrick; with ``on-demand`` the retype job hands the
volume to a migration (``volume.migrate``), still ``retyping``, that moves its
bytes, sets the new type where it lands and ends the retype (Cinder refuses the
move of a volume with snapshots, and so does firebrick). A retype given up
sends the volume back to its status with its old type, and its project is told
why in a user message. Nothing was reserved, so a failure leaves nothing to
release.

A retype that stays moves no byte: the file keeps the disk format recorded when it was made.
"""

from __future__ import annotations

from collections.abc import Callable

from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job, Volume, VolumeType
from firebrick.domain.ports import Ports, Usage
from firebrick.domain.volume.lookup import find_type, visible_volume
from firebrick.domain.volume.migrate import choose_pool, start_retype_move
from firebrick.domain.volume.states import MIGRATION_SETTLED, VolumeStatus
from firebrick.domain.volume_types import backend_name, is_multiattach
from firebrick.errors import Forbidden, InvalidInput, InvalidState, NotFound, QuotaExceeded

__all__ = ["MIGRATION_POLICIES", "RETYPE", "request_retype"]

MIGRATION_POLICIES = ("never", "on-demand")
_NEVER = MIGRATION_POLICIES[0]
_RETYPABLE = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})
_MIN_SIZE_SPEC, _MAX_SIZE_SPEC = "provisioning:min_vol_size", "provisioning:max_vol_size"
_REFUSAL = (
    "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active "
    "migration or a consistency group, requested type has to be different that the one from the volume, "
    "and for in-use volumes front-end qos specs cannot change."
)


def request_retype(
    ports: Ports,
    caller: Caller,
    volume_id: str,
    new_type: str,
    migration_policy: str | None = None,
    multiattach_allowed: bool = True,
) -> None:
    """Start changing a volume's type to ``new_type`` (a name or an id).

    ``migration_policy`` is ``never`` (also when None) or ``on-demand``;
    ``multiattach_allowed`` is what the policy ``volume:multiattach`` says of the caller.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: no such type (for the caller), the volume's size is outside the type's
            limits, or a multiattach change on a volume that is not available.
        Forbidden: the change makes the volume multiattach and ``multiattach_allowed`` is false.
        QuotaExceeded: the new type's per-type quota has no room for the volume (nothing changes).
        InvalidState: the volume is not available or in-use, is migrating, or already has that type.
    """
    volume = visible_volume(ports, caller, volume_id)
    target = _target_type(ports, caller, new_type)
    _check_size_limits(target, volume.size)
    _check_multiattach_change(volume, target, multiattach_allowed)
    admit = _admission(ports, volume, target)
    admit(ports.quotas.usage(volume.project_id))  # Cinder answers "over quota" before "wrong status"
    settled = volume.migration_status in MIGRATION_SETTLED
    if volume.status not in _RETYPABLE or not settled or volume.volume_type_id == target.id:
        raise InvalidState("Volume", volume.id, volume.status, _RETYPABLE, message=_REFUSAL)
    job = new_job(ports, RETYPE, volume.id, new_type_id=target.id, migration_policy=migration_policy or _NEVER)
    # Expecting exactly the status just read is what makes previous_status true.
    moved = ports.volumes.transition(
        volume.id, {volume.status}, VolumeStatus.RETYPING, job=job, admit=admit, previous_status=volume.status
    )
    if not moved:
        raise InvalidState("Volume", volume.id, volume.status, _RETYPABLE, message=_REFUSAL)
    ports.wake_worker()


def _target_type(ports: Ports, caller: Caller, name_or_id: str) -> VolumeType:
    try:
        if name_or_id:  # an empty name is no name here, not the default type
            return find_type(ports, name_or_id, caller)
    except NotFound:
        pass
    # Cinder answers 400 here, not 404.
    raise InvalidInput(f"Invalid input received: Invalid volume_type passed: {name_or_id}.")


def _check_size_limits(volume_type: VolumeType, size: int) -> None:
    low, high = volume_type.extra_specs.get(_MIN_SIZE_SPEC), volume_type.extra_specs.get(_MAX_SIZE_SPEC)
    if low is not None and low.isdigit() and size < int(low):
        raise InvalidInput(
            f"Invalid input received: Specified volume size of '{size}' is less than the minimum required "
            f"size of '{low}' for volume type '{volume_type.name}'."
        )
    if high is not None and high.isdigit() and size > int(high):
        raise InvalidInput(
            f"Invalid input received: Specified volume size of '{size}' is greater than the maximum allowable "
            f"size of '{high}' for volume type '{volume_type.name}'."
        )


def _check_multiattach_change(volume: Volume, target: VolumeType, multiattach_allowed: bool) -> None:
    becomes = is_multiattach(target)
    if becomes == volume.multiattach:
        return
    if volume.status != VolumeStatus.AVAILABLE:
        raise InvalidInput(
            "Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed "
            f"on available volumes, the specified volume however currently has a status of: {volume.status}."
        )
    if becomes and not multiattach_allowed:
        raise Forbidden("volume:multiattach")


def _admission(ports: Ports, volume: Volume, target: VolumeType) -> Callable[[Usage], None]:
    limits = quota.limits_for(ports.quota_defaults, ports.quotas.overrides(volume.project_id), [target.name])
    return quota.type_move_admission(limits, target.id, target.name, volume.size)


def run_retype(ports: Ports, job: Job) -> None:
    """Worker step: complete the retype, or give it up when the volume would have to move.

    Deciding reads only the rows, and completing is one compare-and-set from
    ``retyping``, so a crash just repeats it.
    """
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.RETYPING:
        ports.jobs.finish(job.id)
        return
    target = ports.types.get(str(job.payload["new_type_id"]))
    if target is None:  # deleted while the volume was retyping (it was in use by no volume yet)
        give_up_retype(ports, job, f"Volume type {job.payload['new_type_id']} no longer exists.")
        return
    wanted = _backend_elsewhere(ports, volume, target)
    if wanted is not None:
        _move_or_refuse(ports, job, volume, target, wanted)
        return
    try:
        ports.volumes.transition(
            volume.id, {VolumeStatus.RETYPING}, _status_before(volume), done_job=job.id,
            admit=_admission(ports, volume, target), volume_type_id=target.id, multiattach=is_multiattach(target),
        )  # fmt: skip
    except QuotaExceeded as error:  # another volume took the new type's last room since the request
        give_up_retype(ports, job, str(error))


def _backend_elsewhere(ports: Ports, volume: Volume, target: VolumeType) -> str | None:
    """The backend the new type needs when it is not the volume's, or None when the volume can stay."""
    current = ports.types.get(volume.volume_type_id)
    if current is not None and current.extra_specs == target.extra_specs:
        return None
    wanted = backend_name(target)
    here = next((pool.backend_name for pool in ports.pools if pool.host == volume.host), None)
    if wanted is None or volume.host is None or wanted == here:
        return None
    return wanted


def _move_or_refuse(ports: Ports, job: Job, volume: Volume, target: VolumeType, wanted: str) -> None:
    """Hand the volume to a migration to backend ``wanted`` (``on-demand``), or give the retype up."""
    here = next((pool.backend_name for pool in ports.pools if pool.host == volume.host), None)
    where = f"volume type {target.name} needs backend '{wanted}' and the volume is on '{here}'"
    destination = choose_pool(ports, wanted)
    if destination is None:
        give_up_retype(ports, job, f"No valid backend was found: no pool serves backend '{wanted}'.")
    elif job.payload["migration_policy"] == _NEVER:
        give_up_retype(ports, job, f"Retype requires migration but is not allowed: {where}.")
    elif ports.snapshots.list_for_volume(volume.id):
        give_up_retype(ports, job, f"Retype requires migration, and a volume with snapshots cannot move: {where}.")
    elif not start_retype_move(ports, volume, destination, target.id, job):
        give_up_retype(ports, job, f"Retype requires migration, and the volume cannot move now: {where}.")


def _status_before(volume: Volume) -> str:
    # previous_status is written with the move to retyping; error is the honest answer if it is gone.
    return volume.previous_status or VolumeStatus.ERROR


def give_up_retype(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the volume keeps its type and returns to its status; its project is told why."""
    volume = ports.volumes.get(job.resource_id)
    back = _status_before(volume) if volume is not None else VolumeStatus.ERROR
    expected, event = {VolumeStatus.RETYPING}, messages.Event.RETYPE_VOLUME
    fail(ports, ports.volumes, job.resource_id, expected, back, event, reason, job)


RETYPE = JobKind("volume.retype", run_retype, give_up_retype)

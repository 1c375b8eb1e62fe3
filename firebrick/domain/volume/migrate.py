"""Moving a volume to another pool while it keeps its id (``os-migrate_volume``, and
``os-retype`` with ``on-demand`` when the new type lives elsewhere).

The state machine is Cinder's, on the volume's ``migration_status``::

    starting ──► migrating ──► completing ──► success
        │            │             │
        └────────────┴─────────────┴────────► error    (the volume stays on its source, bytes intact)

``request_migrate`` makes Cinder's checks and moves migration_status to ``starting`` (an available
volume to ``maintenance`` with ``lock_volume``) with the job, in one transaction; a retype that has
to move starts the same job from its own (``start_retype_move``). The job, ``run_migrate``, takes
one step per migration_status, each safe to repeat after a crash:

- ``starting``: the destination row is recorded (a new id on the destination pool, migration_status
  ``target:<volume id>``, the new type for a retype) → ``migrating``. It is Cinder's temporary
  volume: not counted in any quota, and listed only across projects (``all_tenants``), as Cinder
  lists it to admins only.
- ``migrating``, detached: the destination pool copies the volume with one sparse-aware
  ``qemu-img convert`` (``PoolCopySource``), in the destination's format (a raw pool's volume
  becomes qcow2 in a qcow2 pool) → ``completing``. Attaching is refused meanwhile.
- ``migrating``, attached to a server: the destination object is made empty and the compute API
  is asked, as the service user, to swap the server's disk onto the destination row. Compute
  mirrors the running disk (``blockdev-mirror``, sync full), pivots, and reports through
  ``os-migrate_volume_completion`` (``complete_migration``), which moves the migration on. The
  job waits for that report, for ``SWAP_TIMEOUT`` seconds at most.
- ``completing``: one transaction makes the volume live on the destination pool (its host, the
  new type for a retype, the destination's attachments) with migration_status ``success``, and
  removes the destination row. Then the source pool's object is deleted and the job ends.

The destination object is made under the volume's own id in the destination pool (see
``Volume.storage_id``): nothing is renamed when the records swap, so the file a guest was switched
to is the volume's file from then on, and later extends, detaches and snapshots find it.

Compensation (``give_up_migrate``, and a failure compute reports) before the records swap: the
destination object and row go, the volume is as it was on its source with migration_status
``error``, and its project is told why. After the swap nothing is undone: only the source object's
removal was left, and a failure there leaves a stray file, never a lost one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from firebrick.clock import utcnow
from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, deadline, new_job, seconds_left
from firebrick.domain.model import Caller, Job, Volume
from firebrick.domain.ports import Pool, Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import (
    MIGRATION_SETTLED,
    MIGRATION_TARGET,
    AttachStatus,
    MigrationStatus,
    VolumeStatus,
)
from firebrick.errors import BackendError, InvalidInput, QuotaExceeded
from firebrick.storage.base import DiskFormat, GiB, PoolCopySource

__all__ = ["MIGRATE", "SWAP_TIMEOUT", "choose_pool", "complete_migration", "request_migrate", "start_retype_move"]

# How long an attached move waits for compute's report. Compute's own swap gives up after 300 s
# and then reports the failure, so this only ends a move whose compute side vanished.
SWAP_TIMEOUT = 900.0
_FORMAT_SPEC = "firebrick:disk_format"  # as in volume.create: a type may name the on-disk format
_MIGRATABLE = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})
_UNDER_WAY = frozenset({MigrationStatus.STARTING, MigrationStatus.MIGRATING, MigrationStatus.COMPLETING})
_REFUSAL = (
    "Invalid volume: Volume {id} status must be available or in-use, must not be migrating, have snapshots, "
    "be replicated, be part of a group and destination host/cluster must be different than the current one"
)


def request_migrate(ports: Ports, caller: Caller, volume_id: str, host: str, lock_volume: bool = False) -> None:
    """Start moving a volume to the pool ``host`` (``host@backend#pool``, or ``host@backend``).

    ``force_host_copy`` has nothing to choose here: every move is a host copy (or a guest mirror).

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: no enabled, running service serves ``host``; or (Cinder's one message) the
            volume is not available or in-use, is migrating, has snapshots, is already there, or
            is attached to more than one server.
    """
    volume = visible_volume(ports, caller, volume_id)
    destination = _destination(ports, host)
    refused = InvalidInput(_REFUSAL.format(id=volume.id))
    # One server at most: each would mirror on its own, and the first report would end the move.
    if destination.host == volume.host or len(volume.attached_servers) > 1:
        raise refused
    if ports.snapshots.list_for_volume(volume.id):
        raise refused
    job = new_job(ports, MIGRATE, volume.id, **_plan(volume, destination, None))
    locked: dict[str, Any] = {}
    if lock_volume and volume.status == VolumeStatus.AVAILABLE:
        locked["status"] = VolumeStatus.MAINTENANCE
    if volume.status not in _MIGRATABLE or not ports.volumes.transition_migration(
        volume.id, MIGRATION_SETTLED, MigrationStatus.STARTING, statuses={volume.status}, job=job,
        previous_status=volume.status, **locked,
    ):  # fmt: skip
        raise refused
    ports.wake_worker()


def _destination(ports: Ports, host: str) -> Pool:
    """The pool ``host`` names, if its service is enabled and up (Cinder's InvalidHost otherwise)."""
    backend = host.split("#")[0]
    pool = next((p for p in ports.pools if host in (p.host, p.host.split("#")[0])), None)
    service = ports.backend_service(backend) if pool is not None else None
    if pool is None or service is None or service.disabled or not ports.is_up(service):
        raise InvalidInput(f"Invalid host: No available service named {host}")
    return pool


def choose_pool(ports: Ports, backend_name: str) -> Pool | None:
    """The pool of backend ``backend_name`` with the most free space, if any serves it."""
    candidates = [pool for pool in ports.pools if pool.backend_name == backend_name]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    return max(candidates, key=lambda pool: pool.driver.capacity().free_bytes)


def start_retype_move(ports: Ports, volume: Volume, destination: Pool, new_type_id: str, retype_job: Job) -> bool:
    """Hand a ``retyping`` volume over to a migration that ends with the new type; the retype job ends.

    Returns False when the volume was no longer retyping, or is attached to more than one server.
    """
    if len(volume.attached_servers) > 1:
        return False
    job = new_job(ports, MIGRATE, volume.id, **_plan(volume, destination, new_type_id))
    moved = ports.volumes.transition_migration(
        volume.id, MIGRATION_SETTLED, MigrationStatus.STARTING, statuses={VolumeStatus.RETYPING},
        job=job, done_job=retype_job.id,
    )  # fmt: skip
    if moved:
        ports.wake_worker()
    return moved


def _plan(volume: Volume, destination: Pool, new_type_id: str | None) -> dict[str, Any]:
    # Decided once, at the start: a repeated step must find the same destination row and pools.
    return {"target_id": str(uuid.uuid4()), "source": volume.host, "destination": destination.host,
            "new_type_id": new_type_id}  # fmt: skip


def run_migrate(ports: Ports, job: Job) -> None:
    """Worker step: the step for the volume's migration_status, until the move ended or waits."""
    waiting = False
    while not waiting:
        volume = ports.volumes.get(job.resource_id)
        if volume is None:
            ports.jobs.finish(job.id)
            return
        step = _STEPS.get(volume.migration_status)
        if step is None:  # ended; after a success, the source object may still be there
            if volume.migration_status == MigrationStatus.SUCCESS and volume.host != job.payload["source"]:
                ports.pool(job.payload["source"]).driver.delete(volume.id)
            ports.jobs.finish(job.id)
            return
        waiting = step(ports, job, volume)


def _record_target(ports: Ports, job: Job, volume: Volume) -> bool:
    """``starting``: the destination row, in the transaction that makes the volume ``migrating``."""
    type_id = job.payload["new_type_id"] or volume.volume_type_id
    target = Volume(
        id=job.payload["target_id"], project_id=volume.project_id, user_id=volume.user_id, size=volume.size,
        status=VolumeStatus.CREATING, volume_type_id=type_id, availability_zone=volume.availability_zone,
        created_at=utcnow(), name=volume.name, description=volume.description,
        host=job.payload["destination"], migration_status=f"{MIGRATION_TARGET}{volume.id}",
        multiattach=volume.multiattach, bootable=volume.bootable,
    )  # fmt: skip
    # A miss means another hand moved the migration on; the next pass reads where it is.
    ports.volumes.transition_migration(volume.id, {MigrationStatus.STARTING}, MigrationStatus.MIGRATING, target=target)
    return False


def _move_bytes(ports: Ports, job: Job, volume: Volume) -> bool:
    """``migrating``: copy a detached volume; have compute mirror an attached one (and wait for it)."""
    target = ports.volumes.get(job.payload["target_id"])
    if target is None:
        _give_up_step(ports, job, volume, "the migration's destination record is gone")
        return False
    destination = ports.pool(target.host)
    try:
        if volume.attached:
            return _swap_attached(ports, job, volume, target, destination)
        source = ports.pool(volume.host).driver
        copy = PoolCopySource(partial(source.export, volume.id), volume.size * GiB)
        destination.driver.create(volume.id, volume.size, _format(ports, target, destination), copy)
    except BackendError as error:
        _give_up_step(ports, job, volume, str(error))
        return False
    ports.volumes.transition_migration(volume.id, {MigrationStatus.MIGRATING}, MigrationStatus.COMPLETING)
    return False


def _swap_attached(ports: Ports, job: Job, volume: Volume, target: Volume, destination: Pool) -> bool:
    """Ask compute to swap each server's disk onto the target (unless asked before a crash), then
    wait, as the job's stored deadline, for its report to move the migration on; True: waiting.

    Raises:
        BackendError: the destination object cannot be made, or compute refused.
    """
    until = job.payload.get("swap_deadline")
    if until is not None and seconds_left(until) <= 0:
        _give_up_step(ports, job, volume, f"compute did not finish swapping the volume within {SWAP_TIMEOUT:g} s")
        return False
    servers = volume.attached_servers
    if not servers:
        raise BackendError("the volume is attached to a host that is no server; detach it to migrate it")
    asked = {a.instance_uuid for a in target.attachments}
    if not asked:
        destination.driver.create(volume.id, volume.size, _format(ports, target, destination))
        ports.volumes.transition(target.id, {VolumeStatus.CREATING}, VolumeStatus.AVAILABLE)
    for server in servers:
        if server not in asked:
            ports.compute.swap_volume(server, volume.id, target.id)
    until = until or deadline(SWAP_TIMEOUT)
    ports.jobs.wait(job, seconds_left(until), swap_deadline=until)
    return True


def _switch_records(ports: Ports, job: Job, volume: Volume) -> bool:
    """``completing``: see ``_switch_to``."""
    _switch_to(ports, volume, job.payload["target_id"], job)
    return False


def _switch_to(ports: Ports, volume: Volume, target_id: str, job: Job | None) -> None:
    """The volume now lives where its destination row was (id kept), in one transaction."""
    target = ports.volumes.get(target_id)
    if target is None or target.host is None:
        destination = job.payload["destination"] if job is not None else None
        _abandon(ports, volume, target_id, destination, "the migration's destination record is gone", job)
        return
    fields: dict[str, Any] = {"host": target.host, "migration_status": MigrationStatus.SUCCESS}
    fields |= _status_after(volume, attached=bool(target.attachments))
    admit = None
    if target.volume_type_id != volume.volume_type_id:
        new_type = ports.types.get(target.volume_type_id)
        if new_type is None:
            _abandon(
                ports, volume, target_id, target.host, f"Volume type {target.volume_type_id} no longer exists.", job
            )
            return
        limits = quota.limits_for(ports.quota_defaults, ports.quotas.overrides(volume.project_id), [new_type.name])
        admit = quota.type_move_admission(limits, new_type.id, new_type.name, volume.size)
        fields |= {"volume_type_id": new_type.id, "multiattach": target.multiattach}
    try:
        ports.volumes.swap_in_target(volume.id, target.id, volume.host or "", admit=admit, **fields)
    except QuotaExceeded as error:  # another volume took the new type's last room since the retype began
        _abandon(ports, volume, target_id, target.host, str(error), job)


def _status_after(volume: Volume, attached: bool) -> dict[str, Any]:
    """The status the volume returns to as its move ends, whichever way it ends; ``attached``: it
    takes over its destination's attachments (compute removed the old ones as it swapped)."""
    fields: dict[str, Any] = {"previous_status": None}
    if attached:
        fields |= {"status": VolumeStatus.IN_USE, "attach_status": AttachStatus.ATTACHED}
    if volume.status == VolumeStatus.RETYPING:
        fields["status"] = volume.previous_status or VolumeStatus.ERROR
    elif volume.status == VolumeStatus.MAINTENANCE:
        fields["status"] = VolumeStatus.AVAILABLE
    return fields


def _format(ports: Ports, target: Volume, destination: Pool) -> DiskFormat:
    volume_type = ports.types.get(target.volume_type_id)
    spec = volume_type.extra_specs.get(_FORMAT_SPEC) if volume_type else None
    return DiskFormat(spec) if spec in tuple(DiskFormat) else destination.default_format


def complete_migration(ports: Ports, caller: Caller, volume_id: str, new_volume_id: str, error: bool) -> str:
    """Compute's report on the swap of a migration (``os-migrate_volume_completion``); returns the
    id the volume keeps (the old one: the records swap, as in Cinder).

    With ``error`` the move is given up (the guest kept its old disk); otherwise the volume moves
    to the destination at once.

    Raises:
        NotFound: either volume is not visible to the caller.
        InvalidInput: the volume is not migrating, or ``new_volume_id`` is not its destination.
    """
    volume = visible_volume(ports, caller, volume_id)
    target = visible_volume(ports, caller, new_volume_id)
    if volume.migration_status not in (MigrationStatus.MIGRATING, MigrationStatus.COMPLETING):
        raise InvalidInput("Invalid volume: Source volume not mid-migration.")
    if target.migration_source != volume.id:
        raise InvalidInput(
            f"Invalid volume: Destination has migration_status {target.migration_status}, "
            f"expected {MIGRATION_TARGET}{volume.id}."
        )
    if error:
        _abandon(ports, volume, target.id, target.host, "Compute service failed to swap the volume.")
    else:
        ports.volumes.transition_migration(volume.id, {MigrationStatus.MIGRATING}, MigrationStatus.COMPLETING)
        current = ports.volumes.get(volume.id)
        if current is not None and current.migration_status == MigrationStatus.COMPLETING:
            _switch_to(ports, current, target.id, None)
    # The migration job waits for this report: it runs again now, to remove the source object
    # (or, after a failure, just to end).
    for waiting in ports.jobs.for_resource(volume.id):
        if waiting.kind == MIGRATE.name:
            ports.jobs.make_due(waiting.id)
    ports.wake_worker()
    return volume.id


def give_up_migrate(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: see the module docstring. After the records swapped, only the job ends."""
    volume = ports.volumes.get(job.resource_id)
    if volume is not None and volume.migration_status in _UNDER_WAY:
        _give_up_step(ports, job, volume, reason)
    ports.jobs.finish(job.id)


def _give_up_step(ports: Ports, job: Job, volume: Volume, reason: str) -> None:
    _abandon(ports, volume, job.payload["target_id"], job.payload["destination"], reason, job)


def _abandon(
    ports: Ports, volume: Volume, target_id: str, destination: str | None, reason: str, job: Job | None = None
) -> None:
    """The move is off: the destination object and row go, the volume stays on its source (``error``).

    ``volume`` may be stale: compute's completion and the job's own step can end the same move at
    once, and one of them may find the destination row already gone because the other just made
    the volume live there. So the volume is read again, and a move that is no longer under way
    (its records swapped: the destination object is now the volume's only file) is left alone.
    """
    current = ports.volumes.get(volume.id)
    if current is None or current.migration_status not in _UNDER_WAY:
        return
    volume = current
    if destination is not None and destination != volume.host:  # never the source's own object
        ports.pool(destination).driver.delete(volume.id)
    ports.volumes.drop_target(target_id)
    message = messages.new_message(volume.project_id, messages.Event.MIGRATE_VOLUME, volume.id, reason)
    fields = _status_after(volume, attached=False)
    ports.volumes.transition_migration(
        volume.id, _UNDER_WAY, MigrationStatus.ERROR, message=message, done_job=job.id if job else None,
        error_reason=reason, **fields,
    )  # fmt: skip


# Each step returns whether the job now waits (for compute's report) instead of going on.
_STEPS: dict[str | None, Callable[[Ports, Job, Volume], bool]] = {
    MigrationStatus.STARTING: _record_target,
    MigrationStatus.MIGRATING: _move_bytes,
    MigrationStatus.COMPLETING: _switch_records,
}

MIGRATE = JobKind("volume.migrate", run_migrate, give_up_migrate)

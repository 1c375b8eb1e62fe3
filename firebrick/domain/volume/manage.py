"""Managing an existing file: making a volume of a file firebrick did not create (admin).

``request_manage`` checks everything it can at once, so that a bad request is a
400 that changes nothing: the backend service is registered, enabled and up;
the type exists and may live on that backend; the zone is this node's; the
reference is a plain name in the pool, is no volume already, and the file under
it is safe to hand to a guest (``storage._foreign`` says what that means). It
then records the volume in ``managing`` with size 0, charged one volume of
quota, together with its job.

``run_manage`` looks at the file again (it may have changed since), charges its
size (its virtual size rounded up to whole GiB), and has the backend adopt it:
the file takes the volume's name and grows to that size. A file that became
unsafe, or a size over quota, ends in ``error_managing`` with the reason, and
the file as it was. Each step is safe to repeat: the size is charged once (the
row's size is 0 until then), and adopting an adopted file is a no-op.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from firebrick.clock import utcnow
from firebrick.domain import messages, quota
from firebrick.domain.jobs import JobKind, fail, new_job
from firebrick.domain.model import Caller, Job, Volume, VolumeType
from firebrick.domain.ports import Pool, Ports
from firebrick.domain.volume.lookup import find_type
from firebrick.domain.volume.states import VolumeStatus
from firebrick.domain.volume_types import is_multiattach
from firebrick.errors import BackendError, InvalidInput, NotFound, QuotaExceeded

__all__ = ["MANAGE", "ManageRequest", "managed_pool", "request_manage"]

_BACKEND_SPEC = "volume_backend_name"


@dataclass(frozen=True, slots=True)
class ManageRequest:
    host: str
    reference: str  # the name of the file in the pool
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    bootable: bool = False


def request_manage(ports: Ports, caller: Caller, request: ManageRequest) -> Volume:
    """Record a volume in ``managing`` for the file ``request.reference`` and queue its adoption.

    Raises:
        InvalidInput: an unknown, disabled or down backend; an unknown type or one for
            another backend; a zone not this node's; a reference that is no plain name,
            names nothing, is already a volume, or names a file that is unsafe to manage.
        QuotaExceeded: the project has no room for one more volume.
    """
    pool = managed_pool(ports, request.host)
    volume_type = _type(ports, request.volume_type, pool)
    if request.availability_zone not in (None, ports.zone):
        raise InvalidInput(f"Availability zone '{request.availability_zone}' is invalid.")
    _check_reference(ports, pool, request.reference)
    volume = Volume(
        id=str(uuid.uuid4()),
        project_id=caller.project_id,
        user_id=caller.user_id,
        size=0,
        status=VolumeStatus.MANAGING,
        volume_type_id=volume_type.id,
        availability_zone=ports.zone,
        created_at=utcnow(),
        name=request.name,
        description=request.description,
        host=pool.host,
        bootable=request.bootable,
        metadata=dict(request.metadata),
        volume_type_name=volume_type.name,
        multiattach=is_multiattach(volume_type),
    )
    job = new_job(ports, MANAGE, volume.id, reference=request.reference)
    ports.volumes.insert(volume, job, quota.admission(_limits(ports, volume, volume_type), _delta(volume_type, 0)))
    ports.wake_worker()
    return volume


def managed_pool(ports: Ports, host: str) -> Pool:
    """The pool a manage request names: ``host@backend#pool``, or ``host@backend`` for its first pool.

    As in Cinder, the backend's service must be registered, enabled and up.

    Raises:
        InvalidInput: Cinder's ServiceUnavailable (a 400): no such backend, or it is disabled or down.
    """
    backend = host.partition("#")[0]
    service = ports.backend_service(backend)
    pools = [p for p in ports.pools if p.host == host or (p.host.partition("#")[0] == host)]
    if service is None or not pools:
        raise InvalidInput(f"Host '{host}' not found.")
    if service.disabled or not ports.is_up(service):
        raise InvalidInput("Service is unavailable at this time.")
    return pools[0]


def _type(ports: Ports, name_or_id: str | None, pool: Pool) -> VolumeType:
    try:
        volume_type = find_type(ports, name_or_id)
    except NotFound:
        raise InvalidInput(f"Cannot find requested '{name_or_id}' volume type") from None
    wanted = volume_type.extra_specs.get(_BACKEND_SPEC)
    if wanted is not None and wanted != pool.backend_name:
        raise InvalidInput(
            f"Volume type {volume_type.name} places volumes on backend '{wanted}', not on '{pool.backend_name}'."
        )
    return volume_type


def _check_reference(ports: Ports, pool: Pool, reference: str) -> None:
    """Raises InvalidInput unless the file is in the pool, no volume yet, and safe to manage."""
    try:
        found = pool.driver.describe(reference)
    except BackendError as error:
        raise _invalid_reference(reference, str(error)) from None
    if found.volume_id is not None and ports.volumes.get(found.volume_id) is not None:
        raise InvalidInput("Unable to manage existing volume. The volume is already managed")
    if found.refusal is not None:
        raise _invalid_reference(reference, f"{reference} {found.refusal}")


def _invalid_reference(reference: str, reason: str) -> InvalidInput:
    # Cinder's ManageExistingInvalidReference, which the API answers with a 400.
    ref = {"source-name": reference}
    return InvalidInput(f"Manage existing volume failed due to invalid backend reference {ref}: {reason}")


def _limits(ports: Ports, volume: Volume, volume_type: VolumeType) -> dict[str, int]:
    return quota.limits_for(ports.quota_defaults, ports.quotas.overrides(volume.project_id), [volume_type.name])


def _delta(volume_type: VolumeType, size: int) -> quota.Delta:
    # The volume is counted when it is recorded; its gigabytes once its size is known (Cinder's order).
    volumes = 0 if size else 1
    return quota.Delta(volume_type.id, volume_type.name, volumes=volumes, gigabytes=size, volume_size=size or None)


def run_manage(ports: Ports, job: Job) -> None:
    """Worker step: charge the file's size, adopt the file, and make the volume available."""
    volume = ports.volumes.get(job.resource_id)
    if volume is None or volume.status != VolumeStatus.MANAGING:
        ports.jobs.finish(job.id)
        return
    pool = ports.pool(volume.host)
    reference = str(job.payload["reference"])
    try:
        size = volume.size or _charge_size(ports, volume, pool, reference)
        pool.driver.adopt(reference, volume.id, size)
    except (BackendError, InvalidInput, QuotaExceeded) as error:
        give_up_manage(ports, job, str(error))
        return
    ports.volumes.transition(volume.id, {VolumeStatus.MANAGING}, VolumeStatus.AVAILABLE, done_job=job.id)


def _charge_size(ports: Ports, volume: Volume, pool: Pool, reference: str) -> int:
    """Record the file's size on the volume, within quota; returns it in GiB.

    Raises:
        StorageError: the file is gone.
        InvalidInput: it became unsafe to manage, or its type was deleted.
        QuotaExceeded: the project has no room for the file's gigabytes.
    """
    found = pool.driver.describe(reference)
    if found.refusal is not None:
        raise InvalidInput(f"{reference} {found.refusal}")
    volume_type = ports.types.get(volume.volume_type_id)
    if volume_type is None:
        raise InvalidInput(f"Volume type {volume.volume_type_id} no longer exists.")
    admit = quota.admission(_limits(ports, volume, volume_type), _delta(volume_type, found.size_gb))
    expected = {VolumeStatus.MANAGING}
    ports.volumes.transition(volume.id, expected, VolumeStatus.MANAGING, admit=admit, size=found.size_gb)
    return found.size_gb


def give_up_manage(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: the volume ends in ``error_managing`` with the reason; the file is as it was."""
    expected, event = {VolumeStatus.MANAGING}, messages.Event.MANAGE_VOLUME
    fail(ports, ports.volumes, job.resource_id, expected, VolumeStatus.ERROR_MANAGING, event, reason, job)


MANAGE = JobKind("volume.manage", run_manage, give_up_manage)

"""Creating a server (``POST /servers``): a guest on this node's hypervisor.

The API step checks the flavor, the image or boot volume and the zone, and
records the server ``building`` with its mappings and its build job in one
transaction. One request may make several servers (Nova's ``min_count`` and
``max_count``): they share a reservation id, and each is named ``<name>-<n>``,
as Nova's default ``multi_instance_display_name_template`` names them. The
build step reserves and connects each boot volume on the block-storage side,
boots the guest with them, completes the attachments, and makes the server
``active`` — or ``error`` with the fault, its volumes released.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass, field

from firebrick.clock import utcnow
from firebrick.domain.compute._boot import boot_with_disks
from firebrick.domain.compute._disks import next_device
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.flavors import find_flavor
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import PowerState, TaskState, VmState
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import BlockDeviceMapping, Job, Server
from firebrick.errors import FirebrickError, InvalidInput, NotFound

__all__ = ["BUILD", "BootVolume", "CreateRequest", "request_create"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BootVolume:
    volume_id: str
    boot_index: int | None = None
    delete_on_termination: bool = False
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class CreateRequest:
    name: str
    flavor_ref: str
    image_ref: str | None = None
    volumes: tuple[BootVolume, ...] = field(default_factory=tuple)
    availability_zone: str | None = None
    count: int = 1


def request_create(ports: ComputePorts, asked: Request, request: CreateRequest) -> tuple[list[Server], str]:
    """Record the servers and queue their builds; returns them and the admin password of the first.

    Raises:
        InvalidInput: an unknown flavor, image or volume, no image and no boot volume, a bad zone,
            volumes for more than one server.
    """
    if request.count > 1 and request.volumes:
        raise InvalidInput("Cannot attach one or more volumes to multiple instances")
    try:
        flavor = find_flavor(ports, request.flavor_ref)
    except NotFound as missing:
        raise InvalidInput(missing.message) from None
    image_id = request.image_ref.rstrip("/").rsplit("/", 1)[-1] if request.image_ref else None
    boots_from_volume = any(v.boot_index == 0 for v in request.volumes)
    if image_id is None and not boots_from_volume:
        raise InvalidInput("Missing imageRef attribute")
    if image_id is not None and not ports.image_exists(image_id):
        raise InvalidInput(f"Image {image_id} could not be found.")
    if request.availability_zone not in (None, "", ports.zone):
        raise InvalidInput("The requested availability zone is not available")
    for volume in request.volumes:
        try:
            ports.volumes.get(volume.volume_id, asked.token)
        except NotFound:
            raise InvalidInput(f"Block Device Mapping is Invalid: failed to get volume {volume.volume_id}.") from None
    reservation = f"r-{secrets.token_hex(4)}"
    names = [f"{request.name}-{n}" for n in range(1, request.count + 1)] if request.count > 1 else [request.name]
    servers = [_record_server(ports, asked, request, flavor.id, image_id, name, reservation) for name in names]
    ports.wake_worker()
    return servers, secrets.token_urlsafe(9)


def _record_server(
    ports: ComputePorts,
    asked: Request,
    request: CreateRequest,
    flavor_id: str,
    image_id: str | None,
    name: str,
    reservation: str,
) -> Server:
    boots_from_volume = any(v.boot_index == 0 for v in request.volumes)
    server = Server(
        id=str(uuid.uuid4()),
        project_id=asked.caller.project_id,
        user_id=asked.caller.user_id,
        name=name,
        flavor_id=flavor_id,
        vm_state=VmState.BUILDING,
        task_state=TaskState.SPAWNING,
        power_state=PowerState.NOSTATE,
        node=ports.node,
        host=ports.node,
        availability_zone=ports.zone,
        created_at=utcnow(),
        image_id=image_id,
        reservation_id=reservation,
    )
    mappings: list[BlockDeviceMapping] = []
    for volume in sorted(request.volumes, key=lambda v: v.boot_index != 0):  # the boot volume is vda
        device = "/dev/vda" if volume.boot_index == 0 else next_device(mappings, boots_from_volume)
        mappings.append(_mapping(server.id, volume, device))
    job = new_job(ports, BUILD, server.id, request_id=asked.request_id)
    ports.servers.insert(server, mappings, job)
    record(ports, asked, server, "create")
    return server


def _mapping(server_id: str, volume: BootVolume, device: str) -> BlockDeviceMapping:
    return BlockDeviceMapping(
        uuid=str(uuid.uuid4()),
        instance_uuid=server_id,
        volume_id=volume.volume_id,
        delete_on_termination=volume.delete_on_termination,
        created_at=utcnow(),
        device_name=device,
        boot_index=volume.boot_index,
        tag=volume.tag,
    )


def run_build(ports: ComputePorts, job: Job) -> None:
    """Worker step; every part is safe to repeat after a crash."""
    server = ports.servers.get(job.resource_id)
    if server is None or server.vm_state != VmState.BUILDING:
        ports.jobs.finish(job.id)
        return
    action = ports.actions.get(server.id, job.payload["request_id"])
    try:
        with event(ports, action.id if action else None, "compute_build_and_run_instance"):
            for mapping in ports.mappings.of_server(server.id):
                if mapping.attachment_id is None:
                    attachment_id = ports.volumes.attachment_create(mapping.volume_id, server.id)
                    ports.mappings.update(mapping.uuid, attachment_id=attachment_id)
            boot_with_disks(ports, ports.servers.get(server.id) or server)
            for mapping in ports.mappings.of_server(server.id):
                if mapping.attachment_id is not None:
                    ports.volumes.attachment_complete(mapping.attachment_id)
    except FirebrickError as error:
        give_up_build(ports, job, str(error))
        return
    ports.servers.transition(
        server.id, {VmState.BUILDING}, {TaskState.SPAWNING}, done_job=job.id,
        vm_state=VmState.ACTIVE, task_state=None, power_state=PowerState.RUNNING, launched_at=utcnow(),
    )  # fmt: skip


def give_up_build(ports: ComputePorts, job: Job, reason: str) -> None:
    """Compensation: no guest, the volumes released (still mapped, so a delete cleans up), server ``error``."""
    log.warning("build of server %s failed: %s", job.resource_id, reason)
    ports.hypervisor.destroy(job.resource_id)
    for mapping in ports.mappings.of_server(job.resource_id):
        if mapping.attachment_id is not None:
            ports.volumes.attachment_delete(mapping.attachment_id)
            ports.mappings.update(mapping.uuid, attachment_id=None, connection_info=None)
    ports.servers.transition(
        job.resource_id, {VmState.BUILDING}, {TaskState.SPAWNING}, done_job=job.id,
        vm_state=VmState.ERROR, task_state=None, power_state=PowerState.NOSTATE, fault=reason,
    )  # fmt: skip
    ports.jobs.finish(job.id)


BUILD = JobKind("server.build", run_build, give_up_build)

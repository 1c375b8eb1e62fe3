"""Attaching a volume to a server (``POST /servers/{id}/os-volume_attachments``).

The API step checks the server and the volume, records the block-device
mapping, reserves the volume on the block-storage side (``attachment_create``)
and queues the compute step, which connects this host (``attachment_update``
with its connector), plugs the disk into the running guest, and completes the
attachment so the volume shows ``in-use``. A failure there unplugs, deletes the
attachment and the mapping, and records the error on the instance action.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from firebrick.clock import utcnow
from firebrick.domain.compute._disks import next_device, spec_for
from firebrick.domain.compute._lookup import check_state, check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.detach import disconnect
from firebrick.domain.compute.jobs import queue
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import ATTACHABLE, VmState
from firebrick.domain.jobs import JobKind
from firebrick.domain.model import BlockDeviceMapping, Job, Server
from firebrick.errors import FirebrickError, InvalidInput

__all__ = ["ATTACH", "request_attach"]

log = logging.getLogger(__name__)


def request_attach(
    ports: ComputePorts,
    asked: Request,
    server_id: str,
    volume_id: str,
    tag: str | None = None,
    delete_on_termination: bool = False,
    multiattach_allowed: bool = True,
) -> BlockDeviceMapping:
    """Reserve the volume for the server and queue the attach; returns the mapping (with its device).

    Raises:
        NotFound: the server, or the volume (for this user).
        Conflict: the server is locked, or in a state that cannot attach.
        InvalidInput: the volume is attached already, or is multiattach below 2.60, or is not free.
    """
    server = visible_server(ports, asked.caller, server_id)
    check_unlocked(asked.caller, server)
    check_state(server, "attach_volume", ATTACHABLE)
    volume = ports.volumes.get(volume_id, asked.token)
    holders = [m.instance_uuid for m in ports.mappings.of_volume(volume.id)]
    if volume.multiattach and server.id in holders:
        raise InvalidInput(f"Invalid volume: volume {volume.id} already attached")
    if not volume.multiattach and holders:
        raise InvalidInput(f"Invalid volume: volume {volume.id} is already attached to instances: {','.join(holders)}")
    if volume.multiattach and not multiattach_allowed:
        raise InvalidInput("Multiattach volumes are only supported starting with compute API version 2.60.")
    offloaded = server.vm_state == VmState.SHELVED_OFFLOADED
    if offloaded and tag:
        raise InvalidInput("Tagged volume attachment is not supported for shelved-offloaded instances.")
    existing = ports.mappings.of_server(server.id)
    mapping = BlockDeviceMapping(
        uuid=str(uuid.uuid4()),
        instance_uuid=server.id,
        volume_id=volume.id,
        delete_on_termination=delete_on_termination,
        created_at=utcnow(),
        device_name=None if offloaded else next_device(existing, _boots_from_volume(existing)),
        tag=tag,
        volume_size=volume.size,
    )
    if not ports.mappings.add(mapping):
        raise InvalidInput(f"Invalid volume: volume {volume.id} already attached")  # a concurrent attach won
    try:
        attachment_id = ports.volumes.attachment_create(volume.id, server.id, asked.token)
    except FirebrickError:
        ports.mappings.delete(mapping.uuid)
        raise
    ports.mappings.update(mapping.uuid, attachment_id=attachment_id)
    action = record(ports, asked, server, "attach_volume")
    if offloaded:
        # No host to connect: the volume is in-use now and is connected when the server is unshelved.
        with event(ports, action.id, "api_attach_volume"):
            ports.volumes.attachment_complete(attachment_id)
    else:
        queue(ports, ATTACH, server.id, volume_id=volume.id, action_id=action.id)
    return mapping


def _boots_from_volume(mappings: list[BlockDeviceMapping]) -> bool:
    return any(m.boot_index == 0 for m in mappings)


def connect_volume(ports: ComputePorts, mapping: BlockDeviceMapping) -> dict[str, Any]:
    """Connect this host to the mapped volume through the block-storage side; returns the connection.

    Raises:
        FirebrickError: the block-storage side refused.
    """
    assert mapping.attachment_id is not None
    connector = {**ports.connector, "mountpoint": mapping.device_name}
    info = ports.volumes.attachment_update(mapping.attachment_id, connector)
    # As Nova does: the connection says whether other servers may open the volume too.
    info = {**info, "multiattach": ports.volumes.get(mapping.volume_id).multiattach}
    ports.mappings.update(mapping.uuid, connection_info=info)
    return info


def run_attach(ports: ComputePorts, job: Job) -> None:
    """Worker step: connect, plug in, complete; on a refusal undo all of it."""
    server = ports.servers.get(job.resource_id)
    mapping = ports.mappings.get(job.resource_id, job.payload["volume_id"])
    if server is None or mapping is None or mapping.attachment_id is None:
        ports.jobs.finish(job.id)
        return
    try:
        with event(ports, job.payload.get("action_id"), "compute_attach_volume"):
            info = connect_volume(ports, mapping)
            # A stopped guest gets the disk when it starts: the hypervisor remembers it.
            ports.hypervisor.attach(server.id, spec_for(mapping.volume_id, info))
            ports.volumes.attachment_complete(mapping.attachment_id)
    except FirebrickError as error:
        log.warning("attach of volume %s to server %s failed: %s", mapping.volume_id, server.id, error)
        _undo(ports, server, mapping)
    ports.jobs.finish(job.id)


def give_up_attach(ports: ComputePorts, job: Job, reason: str) -> None:
    server = ports.servers.get(job.resource_id)
    mapping = ports.mappings.get(job.resource_id, job.payload["volume_id"])
    if server is not None and mapping is not None:
        log.error("attach of volume %s to server %s abandoned: %s", mapping.volume_id, server.id, reason)
        _undo(ports, server, mapping)
    ports.jobs.finish(job.id)


def _undo(ports: ComputePorts, server: Server, mapping: BlockDeviceMapping) -> None:
    """Compensation: the guest, the block-storage side and the mapping forget the attach."""
    disconnect(ports, server, mapping)
    if mapping.attachment_id is not None:
        ports.volumes.attachment_delete(mapping.attachment_id)
    ports.mappings.delete(mapping.uuid)


ATTACH = JobKind("compute.attach", run_attach, give_up_attach)

"""Detaching a volume from a server (``DELETE /servers/{id}/os-volume_attachments/{volume_id}``).

The API step marks the volume ``detaching`` on the block-storage side and
queues the compute step, which unplugs the disk (waiting for the guest to let
go), then deletes the attachment and the mapping. A guest that never lets go
leaves the volume attached: the block-storage side rolls back to ``in-use``
and the instance action records the error.
"""

from __future__ import annotations

import logging

from firebrick.domain.compute._lookup import check_state, check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.jobs import queue
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import ATTACHABLE, ON_HOST, VmState
from firebrick.domain.jobs import JobKind
from firebrick.domain.model import BlockDeviceMapping, Job, Server
from firebrick.errors import FirebrickError, InvalidInput, NotFound

__all__ = ["DETACH", "disconnect", "request_detach"]

log = logging.getLogger(__name__)

# Nova's device_detach_timeout (20 s) over its 8 attempts, shortened: the guest answers in well under a second.
DETACH_TIMEOUT = 30.0


def request_detach(ports: ComputePorts, asked: Request, server_id: str, volume_id: str) -> None:
    """Raises NotFound (server, volume, or no such attachment), InvalidInput (root disk, volume not
    in-use), Conflict (locked, or a state that cannot detach)."""
    server = visible_server(ports, asked.caller, server_id)
    ports.volumes.get(volume_id, asked.token)
    mapping = ports.mappings.get(server.id, volume_id)
    if mapping is None:
        raise NotFound("BlockDeviceMapping", volume_id, f"Instance {server.id} is not attached to volume {volume_id}")
    if mapping.boot_index == 0:
        raise InvalidInput("Cannot detach a root device volume")
    check_unlocked(asked.caller, server)
    check_state(server, "detach_volume", ATTACHABLE)
    if server.vm_state == VmState.SHELVED_OFFLOADED:
        action = record(ports, asked, server, "detach_volume")
        with event(ports, action.id, "api_detach_volume"):
            _release(ports, mapping)
        return
    ports.volumes.begin_detaching(volume_id)
    action = record(ports, asked, server, "detach_volume")
    queue(ports, DETACH, server.id, volume_id=volume_id, action_id=action.id)


def disconnect(ports: ComputePorts, server: Server, mapping: BlockDeviceMapping) -> None:
    """Unplug the disk from the guest (or from what a stopped server will boot with).

    Raises DetachTimeout when the guest keeps it."""
    if server.vm_state in ON_HOST:
        try:
            ports.hypervisor.detach(server.id, mapping.volume_id, timeout=DETACH_TIMEOUT)
        except NotFound:
            pass  # the hypervisor does not hold the server: nothing is plugged in


def _release(ports: ComputePorts, mapping: BlockDeviceMapping) -> None:
    if mapping.attachment_id is not None:
        ports.volumes.attachment_delete(mapping.attachment_id)
    ports.mappings.delete(mapping.uuid)


def run_detach(ports: ComputePorts, job: Job) -> None:
    server = ports.servers.get(job.resource_id)
    mapping = ports.mappings.get(job.resource_id, job.payload["volume_id"])
    if server is None or mapping is None:
        ports.jobs.finish(job.id)
        return
    try:
        with event(ports, job.payload.get("action_id"), "compute_detach_volume"):
            disconnect(ports, server, mapping)
            _release(ports, mapping)
    except FirebrickError as error:
        log.warning("detach of volume %s from server %s failed: %s", mapping.volume_id, server.id, error)
        ports.volumes.roll_detaching(mapping.volume_id)
    ports.jobs.finish(job.id)


def give_up_detach(ports: ComputePorts, job: Job, reason: str) -> None:
    log.error("detach of volume %s from server %s abandoned: %s", job.payload["volume_id"], job.resource_id, reason)
    ports.volumes.roll_detaching(job.payload["volume_id"])
    ports.jobs.finish(job.id)


DETACH = JobKind("compute.detach", run_detach, give_up_detach)

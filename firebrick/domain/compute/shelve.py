"""Shelving and unshelving a server.

Shelve offloads at once (Nova's ``shelved_offload_time = 0``, DevStack's and
tempest's setting): the guest goes, the volumes stay attached on the
block-storage side. Unshelve boots it again and connects every volume anew,
including those attached while it was offloaded (they get their device then).
"""

from __future__ import annotations

import logging

from firebrick.domain.compute._boot import boot_with_disks
from firebrick.domain.compute._disks import next_device
from firebrick.domain.compute._lookup import check_state, check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import PowerState, TaskState, VmState
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import Job
from firebrick.errors import Conflict, FirebrickError

__all__ = ["SHELVE", "UNSHELVE", "request_shelve", "request_unshelve"]

log = logging.getLogger(__name__)

_SHELVABLE = frozenset({VmState.ACTIVE, VmState.STOPPED})


def request_shelve(ports: ComputePorts, asked: Request, server_id: str) -> None:
    server = visible_server(ports, asked.caller, server_id)
    check_unlocked(asked.caller, server)
    check_state(server, "shelve", _SHELVABLE)
    job = new_job(ports, SHELVE, server.id, request_id=asked.request_id)
    if not ports.servers.transition(server.id, _SHELVABLE, {None}, job=job, task_state=TaskState.SHELVING):
        raise Conflict(f"Cannot 'shelve' instance {server.id} while it is in task_state changing")
    record(ports, asked, server, "shelve")
    ports.wake_worker()


def request_unshelve(ports: ComputePorts, asked: Request, server_id: str) -> None:
    server = visible_server(ports, asked.caller, server_id)
    check_unlocked(asked.caller, server)
    check_state(server, "unshelve", {VmState.SHELVED, VmState.SHELVED_OFFLOADED})
    job = new_job(ports, UNSHELVE, server.id, request_id=asked.request_id)
    offloaded = {VmState.SHELVED, VmState.SHELVED_OFFLOADED}
    if not ports.servers.transition(server.id, offloaded, {None}, job=job, task_state=TaskState.UNSHELVING):
        raise Conflict(f"Cannot 'unshelve' instance {server.id} while it is in task_state changing")
    record(ports, asked, server, "unshelve")
    ports.wake_worker()


def run_shelve(ports: ComputePorts, job: Job) -> None:
    action = ports.actions.get(job.resource_id, job.payload["request_id"])
    with event(ports, action.id if action else None, "compute_shelve_offload_instance"):
        ports.hypervisor.destroy(job.resource_id)
    ports.servers.transition(
        job.resource_id, _SHELVABLE, {TaskState.SHELVING}, done_job=job.id,
        vm_state=VmState.SHELVED_OFFLOADED, task_state=None, power_state=PowerState.SHUTDOWN, host=None,
    )  # fmt: skip


def give_up_shelve(ports: ComputePorts, job: Job, reason: str) -> None:
    log.error("shelve of server %s failed: %s", job.resource_id, reason)
    ports.servers.transition(job.resource_id, _SHELVABLE, {TaskState.SHELVING}, done_job=job.id, task_state=None)
    ports.jobs.finish(job.id)


def run_unshelve(ports: ComputePorts, job: Job) -> None:
    server = ports.servers.get(job.resource_id)
    if server is None or server.task_state != TaskState.UNSHELVING:
        ports.jobs.finish(job.id)
        return
    action = ports.actions.get(server.id, job.payload["request_id"])
    mappings = ports.mappings.of_server(server.id)
    for mapping in mappings:
        if mapping.device_name is None:  # attached while offloaded: it gets its device now
            device = next_device(ports.mappings.of_server(server.id), any(m.boot_index == 0 for m in mappings))
            ports.mappings.update(mapping.uuid, device_name=device)
    try:
        with event(ports, action.id if action else None, "compute_unshelve_instance"):
            boot_with_disks(ports, server, reconnect=True)
    except FirebrickError as error:
        give_up_unshelve(ports, job, str(error))
        return
    ports.servers.transition(
        server.id, {VmState.SHELVED, VmState.SHELVED_OFFLOADED}, {TaskState.UNSHELVING}, done_job=job.id,
        vm_state=VmState.ACTIVE, task_state=None, power_state=PowerState.RUNNING, host=ports.node,
    )  # fmt: skip


def give_up_unshelve(ports: ComputePorts, job: Job, reason: str) -> None:
    log.warning("unshelve of server %s failed: %s", job.resource_id, reason)
    ports.hypervisor.destroy(job.resource_id)
    ports.servers.transition(
        job.resource_id, {VmState.SHELVED, VmState.SHELVED_OFFLOADED}, {TaskState.UNSHELVING}, done_job=job.id,
        vm_state=VmState.ERROR, task_state=None, fault=reason,
    )  # fmt: skip
    ports.jobs.finish(job.id)


SHELVE = JobKind("server.shelve", run_shelve, give_up_shelve)
UNSHELVE = JobKind("server.unshelve", run_unshelve, give_up_unshelve)

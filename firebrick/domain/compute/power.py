"""Stopping, starting and rebooting a server (``os-stop``, ``os-start``, ``reboot``).

A stopped guest has no process; its volumes stay attached on the block-storage
side, and the hypervisor starts it again with every disk plugged in (what a
persistent libvirt domain does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firebrick.domain.compute._boot import boot_with_disks
from firebrick.domain.compute._lookup import check_state, check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import PowerState, TaskState, VmState
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import Job, Server
from firebrick.errors import Conflict, FirebrickError, NotFound

__all__ = ["POWER", "request_power"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Operation:
    action: str  # the instance action's name
    event: str
    from_state: VmState
    task: TaskState
    to_state: VmState


_OPERATIONS = {
    "stop": _Operation("stop", "compute_stop_instance", VmState.ACTIVE, TaskState.POWERING_OFF, VmState.STOPPED),
    "start": _Operation("start", "compute_start_instance", VmState.STOPPED, TaskState.POWERING_ON, VmState.ACTIVE),
    "reboot": _Operation("reboot", "compute_reboot_instance", VmState.ACTIVE, TaskState.REBOOTING_HARD, VmState.ACTIVE),
}


def request_power(ports: ComputePorts, asked: Request, server_id: str, operation: str) -> None:
    """``operation`` is stop, start or reboot. Raises NotFound, or Conflict (locked, wrong state)."""
    chosen = _OPERATIONS[operation]
    server = visible_server(ports, asked.caller, server_id)
    check_unlocked(asked.caller, server)
    check_state(server, operation, {chosen.from_state})
    job = new_job(ports, POWER, server.id, operation=operation, request_id=asked.request_id)
    if not ports.servers.transition(server.id, {chosen.from_state}, {None}, job=job, task_state=chosen.task):
        raise Conflict(f"Cannot '{operation}' instance {server.id} while it is in task_state changing")
    record(ports, asked, server, chosen.action)
    ports.wake_worker()


def run_power(ports: ComputePorts, job: Job) -> None:
    chosen = _OPERATIONS[job.payload["operation"]]
    server = ports.servers.get(job.resource_id)
    if server is None or server.task_state != chosen.task:
        ports.jobs.finish(job.id)
        return
    action = ports.actions.get(server.id, job.payload["request_id"])
    try:
        with event(ports, action.id if action else None, chosen.event):
            _power(ports, server, job.payload["operation"])
    except FirebrickError as error:
        give_up_power(ports, job, str(error))
        return
    power = PowerState.RUNNING if chosen.to_state == VmState.ACTIVE else PowerState.SHUTDOWN
    ports.servers.transition(
        server.id, {chosen.from_state}, {chosen.task}, done_job=job.id,
        vm_state=chosen.to_state, task_state=None, power_state=power,
    )  # fmt: skip


def _power(ports: ComputePorts, server: Server, operation: str) -> None:
    """The hypervisor remembers a server's disks across power cycles; one it lost is booted anew."""
    try:
        if operation == "stop":
            ports.hypervisor.power_off(server.id)
        elif operation == "start":
            ports.hypervisor.power_on(server.id)
        else:
            ports.hypervisor.reboot(server.id)
    except NotFound:
        if operation != "stop":
            boot_with_disks(ports, server)


def give_up_power(ports: ComputePorts, job: Job, reason: str) -> None:
    """A guest that cannot be started or stopped leaves the server in ``error`` with the reason."""
    chosen = _OPERATIONS[job.payload["operation"]]
    log.warning("%s of server %s failed: %s", chosen.action, job.resource_id, reason)
    running = ports.hypervisor.is_running(job.resource_id)
    ports.servers.transition(
        job.resource_id, {chosen.from_state}, {chosen.task}, done_job=job.id, vm_state=VmState.ERROR,
        task_state=None, power_state=PowerState.RUNNING if running else PowerState.SHUTDOWN, fault=reason,
    )  # fmt: skip
    ports.jobs.finish(job.id)


POWER = JobKind("server.power", run_power, give_up_power)

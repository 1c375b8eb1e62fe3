"""Deleting a server (``DELETE /servers/{id}``): the guest goes, its volumes are released, and
those marked ``delete_on_termination`` are deleted on the block-storage side."""

from __future__ import annotations

import logging

from firebrick.clock import utcnow
from firebrick.domain.compute._lookup import check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import PowerState, TaskState, VmState
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import Job
from firebrick.errors import Conflict

__all__ = ["DELETE_SERVER", "request_delete"]

log = logging.getLogger(__name__)

_LIVE = frozenset(VmState) - {VmState.DELETED}
# A delete may interrupt any operation but another delete (Nova's rule).
_INTERRUPTIBLE = (None, *(t for t in TaskState if t is not TaskState.DELETING))


def request_delete(ports: ComputePorts, asked: Request, server_id: str) -> None:
    """Raises NotFound, or Conflict when the server is locked or already being deleted."""
    server = visible_server(ports, asked.caller, server_id)
    check_unlocked(asked.caller, server)
    job = new_job(ports, DELETE_SERVER, server.id, request_id=asked.request_id)
    if not ports.servers.transition(server.id, _LIVE, _INTERRUPTIBLE, job=job, task_state=TaskState.DELETING):
        raise Conflict(f"Cannot 'delete' instance {server.id} while it is in task_state deleting")
    record(ports, asked, server, "delete")
    ports.wake_worker()


def run_delete(ports: ComputePorts, job: Job) -> None:
    """Worker step: stop the guest, release or delete each volume, then the server; each part repeats safely."""
    server = ports.servers.get(job.resource_id)
    if server is None:
        ports.jobs.finish(job.id)
        return
    action = ports.actions.get(server.id, job.payload["request_id"])
    with event(ports, action.id if action else None, "compute_terminate_instance"):
        ports.hypervisor.destroy(server.id)
        for mapping in ports.mappings.of_server(server.id):
            if mapping.attachment_id is not None:
                ports.volumes.attachment_delete(mapping.attachment_id)
            if mapping.delete_on_termination:
                ports.volumes.delete(mapping.volume_id)
            ports.mappings.delete(mapping.uuid)
    ports.servers.transition(
        server.id, _LIVE, (TaskState.DELETING,), done_job=job.id,
        vm_state=VmState.DELETED, task_state=None, power_state=PowerState.NOSTATE, deleted_at=utcnow(),
    )  # fmt: skip


def give_up_delete(ports: ComputePorts, job: Job, reason: str) -> None:
    """A delete that keeps failing leaves the server in ``error`` (deletable again), not stuck deleting."""
    log.error("delete of server %s failed: %s", job.resource_id, reason)
    ports.servers.transition(
        job.resource_id, _LIVE, (TaskState.DELETING,), done_job=job.id,
        vm_state=VmState.ERROR, task_state=None, fault=reason,
    )  # fmt: skip
    ports.jobs.finish(job.id)


DELETE_SERVER = JobKind("server.delete", run_delete, give_up_delete)

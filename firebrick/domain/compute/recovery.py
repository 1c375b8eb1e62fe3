"""After a restart: every server of this node is as its row says, and no guest runs without a row.

Running guests are found again (their QMP sockets); an active server whose
guest is gone is booted again with its disks; a guest whose server is stopped,
shelved, deleted or unknown is stopped. An operation that was in flight keeps
its durable job, which runs again; one whose job is gone returns to idle.
"""

from __future__ import annotations

import logging

from firebrick.domain.compute._boot import boot_with_disks
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.compute.states import PowerState, VmState
from firebrick.errors import FirebrickError

__all__ = ["recover_servers"]

log = logging.getLogger(__name__)


def recover_servers(ports: ComputePorts) -> int:
    """Settle this node's servers; returns how many needed a change."""
    report = ports.hypervisor.recover()
    known = set(report.running) | set(report.shut_off) | set(report.crashed)
    changed = 0
    for server in ports.servers.on_node(ports.node):
        if server.task_state is not None:
            if not ports.jobs.for_resource(server.id):
                ports.servers.update(server.id, task_state=None)
                changed += 1
            continue  # its job runs again and finishes the operation
        if server.vm_state != VmState.ACTIVE:
            if server.id in report.running:
                ports.hypervisor.power_off(server.id)  # it should not run
                changed += 1
            continue
        if server.id not in report.running:
            changed += 1
            try:
                if server.id in known:
                    ports.hypervisor.power_on(server.id)  # it comes back with its disks
                else:
                    boot_with_disks(ports, server)
            except FirebrickError as error:
                log.error("server %s could not be restarted: %s", server.id, error)
                fault = str(error)
                ports.servers.update(server.id, vm_state=VmState.ERROR, power_state=PowerState.NOSTATE, fault=fault)
    return changed

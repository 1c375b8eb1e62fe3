"""External events (``POST /os-server-external-events``): other services telling compute about a server.

Each event gets its own answer (200 accepted, 400 no tag where one is needed,
404 no such server, 422 server has no host), as current Nova gives them.
``volume-extended`` records the instance action ``extend_volume`` and queues
the compute step: read the new size from the block-storage API and resize the
disk in the running guest (``block_resize``), recorded as ``compute_extend_volume``.
The step waits for the guest's own console report of the new size; when the
block-storage side holds the volume ``extending`` for that confirmation, it is
told the outcome through ``os-extend_volume_completion``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.jobs import queue
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.jobs import JobKind
from firebrick.domain.model import Job
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import FirebrickError

__all__ = ["EXTEND_VOLUME", "ExternalEvent", "accept_events"]

log = logging.getLogger(__name__)

GiB = 1024**3
VOLUME_EXTENDED = "volume-extended"
# How long the guest has to report the new size of its disk.
GUEST_CONFIRM_TIMEOUT = 30.0
# Nova's TAG_REQUIRED: these events name what they are about in ``tag``.
_TAG_REQUIRED = frozenset({"volume-extended", "power-update", "accelerator-request-bound"})


@dataclass(frozen=True, slots=True)
class ExternalEvent:
    name: str
    server_uuid: str
    status: str = "completed"
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class EventResult:
    event: ExternalEvent
    code: int

    @property
    def status(self) -> str:
        return self.event.status if self.code == 200 else "failed"


def accept_events(ports: ComputePorts, asked: Request, events: list[ExternalEvent]) -> list[EventResult]:
    """Answer each event; the accepted ones are acted on in the background."""
    results = []
    for item in events:
        server = ports.servers.get(item.server_uuid)
        if server is None:
            code = 404
        elif item.name in _TAG_REQUIRED and not item.tag:
            code = 400
        elif server.host is None:
            code = 422  # not on a host (shelved offloaded): nothing to tell
        else:
            code = 200
            if item.name == VOLUME_EXTENDED and item.tag:
                action = record(ports, asked, server, "extend_volume")
                queue(ports, EXTEND_VOLUME, server.id, volume_id=item.tag, action_id=action.id)
        results.append(EventResult(item, code))
    return results


def run_extend_volume(ports: ComputePorts, job: Job) -> None:
    """Worker step: the guest's disk takes the size the block-storage side now reports, and, when
    the block-storage side waits for it, the guest's own report of that size is confirmed back."""
    volume_id = job.payload["volume_id"]
    volume = None
    try:
        with event(ports, job.payload.get("action_id"), "compute_extend_volume"):
            volume = ports.volumes.get(volume_id)
            _resize_guest_disk(ports, job.resource_id, volume_id, volume.size)
    except FirebrickError as error:
        log.warning("extend of volume %s in server %s failed: %s", volume_id, job.resource_id, error)
        if volume is not None and volume.status == VolumeStatus.EXTENDING:
            ports.volumes.extend_volume_completion(volume_id, error=True)
    else:
        if volume is not None and volume.status == VolumeStatus.EXTENDING:
            ports.volumes.extend_volume_completion(volume_id, error=False)
    ports.jobs.finish(job.id)


def _resize_guest_disk(ports: ComputePorts, server_id: str, volume_id: str, size_gb: int) -> None:
    mapping = ports.mappings.get(server_id, volume_id)
    if mapping is None or mapping.connection_info is None:
        log.warning("volume-extended for %s: server %s does not use it", volume_id, server_id)
        return
    ports.hypervisor.extend(server_id, volume_id, size_gb * GiB)
    ports.mappings.update(mapping.uuid, volume_size=size_gb)
    if ports.hypervisor.is_running(server_id):
        ports.hypervisor.wait_guest_disk(server_id, volume_id, size_gb * GiB, GUEST_CONFIRM_TIMEOUT)


def give_up_extend_volume(ports: ComputePorts, job: Job, reason: str) -> None:
    log.error("extend of volume %s in server %s abandoned: %s", job.payload["volume_id"], job.resource_id, reason)
    ports.jobs.finish(job.id)


EXTEND_VOLUME = JobKind("compute.extend_volume", run_extend_volume, give_up_extend_volume)

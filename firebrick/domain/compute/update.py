"""Updating a server's volume attachment (``PUT /servers/{id}/os-volume_attachments/{volume_id}``).

From 2.85 a PUT that keeps ``volumeId`` may change ``delete_on_termination``
only. A PUT that changes ``volumeId`` is a swap, and a swap is refused (409)
unless the block-storage side is migrating the old volume (seed 002, Nova bug
#2112187: a swap outside a migration once let two guests share a disk). That
check comes right after the old volume is found, before anything else is looked at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from firebrick.domain.compute._disks import spec_for
from firebrick.domain.compute._lookup import check_state, check_unlocked, visible_server
from firebrick.domain.compute.actions import event, record
from firebrick.domain.compute.jobs import queue
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import SWAPPABLE
from firebrick.domain.jobs import JobKind
from firebrick.domain.model import Job
from firebrick.errors import Conflict, FirebrickError, InvalidInput, NotFound

__all__ = ["SWAP", "AttachmentUpdate", "request_swap", "update_attachment"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AttachmentUpdate:
    """The fields a 2.85+ PUT may carry besides ``volumeId``; all but the last must not change."""

    attachment_id: str | None = None
    server_id: str | None = None
    device: str | None = None
    tag: str | None = None
    delete_on_termination: bool | None = None


def update_attachment(
    ports: ComputePorts, asked: Request, server_id: str, volume_id: str, change: AttachmentUpdate
) -> None:
    """Raises NotFound (server, mapping) or InvalidInput (an immutable field changed)."""
    server = visible_server(ports, asked.caller, server_id)
    mapping = ports.mappings.get(server.id, volume_id)
    if mapping is None:
        raise NotFound("BlockDeviceMapping", volume_id, f"No volume Block Device Mapping with id {volume_id}.")
    for name, given, current in (
        ("id", change.attachment_id, volume_id),
        ("serverId", change.server_id, server.id),
        ("device", change.device, mapping.device_name),
        ("tag", change.tag, mapping.tag),
    ):
        if given is not None and given != current:
            raise InvalidInput(f"The {name} property is not mutable")
    if change.delete_on_termination is not None:
        ports.mappings.update(mapping.uuid, delete_on_termination=change.delete_on_termination)


def request_swap(ports: ComputePorts, asked: Request, server_id: str, old_volume_id: str, new_volume_id: str) -> None:
    """Start moving the server's disk from one volume to another, during a storage-side migration only.

    Raises:
        NotFound: the server, or the old volume.
        Conflict: the old volume is not migrating (checked first), the server is locked or not running.
        InvalidInput: the new volume is missing, attached, or smaller; the old one is not this server's,
            or has more than one read/write attachment.
    """
    server = visible_server(ports, asked.caller, server_id)
    old = ports.volumes.get(old_volume_id)
    if not old.migration_status:
        raise Conflict(f"volume {old.id} is not migrating; this API should only be called by Cinder")
    try:
        new = ports.volumes.get(new_volume_id)
    except NotFound:
        raise InvalidInput(f"Volume {new_volume_id} could not be found.") from None
    check_unlocked(asked.caller, server)
    check_state(server, "swap_volume", SWAPPABLE)
    if server.id not in old.attached_servers:
        raise InvalidInput("Invalid volume: Old volume is attached to a different instance.")
    if new.attached_servers:
        raise InvalidInput("Invalid volume: New volume must be detached in order to swap.")
    if new.size < old.size:
        raise InvalidInput("Invalid volume: New volume must be the same size or larger.")
    if len(old.attached_servers) > 1 and _writers(ports, old.attached_servers.values()) > 1:
        raise InvalidInput("Swapping multi-attach volumes with more than one read/write attachment is not supported.")
    mapping = ports.mappings.get(server.id, old.id)
    if mapping is None:
        raise NotFound("BlockDeviceMapping", old.id, f"No volume Block Device Mapping with id {old.id}.")
    ports.volumes.begin_detaching(old.id)
    try:
        new_attachment = ports.volumes.attachment_create(new.id, server.id)
    except FirebrickError:
        ports.volumes.roll_detaching(old.id)
        raise
    action = record(ports, asked, server, "swap_volume")
    queue(ports, SWAP, server.id, old=old.id, new=new.id, attachment_id=new_attachment, action_id=action.id)


def _writers(ports: ComputePorts, attachment_ids: Iterable[str]) -> int:
    # Nova counts an attachment it cannot read as a writer: the safe guess.
    return sum(ports.volumes.attachment_mode(a) in (None, "rw", "null") for a in attachment_ids)


def run_swap(ports: ComputePorts, job: Job) -> None:
    """Worker step: connect the new volume, mirror the live disk onto it and pivot, then let the
    block-storage side finish its migration (it keeps the old volume's id)."""
    old_id, new_id, new_attachment = job.payload["old"], job.payload["new"], job.payload["attachment_id"]
    mapping = ports.mappings.get(job.resource_id, old_id)
    if mapping is None:
        ports.jobs.finish(job.id)
        return
    try:
        with event(ports, job.payload.get("action_id"), "compute_swap_volume"):
            info = ports.volumes.attachment_update(
                new_attachment, {**ports.connector, "mountpoint": mapping.device_name}
            )
            ports.hypervisor.swap(job.resource_id, old_id, spec_for(new_id, info))
            ports.volumes.attachment_complete(new_attachment)
            if mapping.attachment_id is not None:
                ports.volumes.attachment_delete(mapping.attachment_id)
            kept = ports.volumes.migrate_volume_completion(old_id, new_id, error=False)
            ports.mappings.update(mapping.uuid, volume_id=kept, attachment_id=new_attachment, connection_info=info)
    except FirebrickError as error:
        give_up_swap(ports, job, str(error))
        return
    ports.jobs.finish(job.id)


def give_up_swap(ports: ComputePorts, job: Job, reason: str) -> None:
    """Compensation: the guest keeps its old disk; the new volume's attachment goes; the migration is told."""
    log.warning("swap of volume %s in server %s failed: %s", job.payload["old"], job.resource_id, reason)
    ports.volumes.roll_detaching(job.payload["old"])
    ports.volumes.attachment_delete(job.payload["attachment_id"])
    ports.volumes.migrate_volume_completion(job.payload["old"], job.payload["new"], error=True)
    ports.jobs.finish(job.id)


SWAP = JobKind("compute.swap", run_swap, give_up_swap)

"""The rules every attach and detach path shares: what status a volume has for
the attachments it holds, who may remove an attachment, and what a host is told
to connect to."""

from __future__ import annotations

from typing import Any

from firebrick.domain.model import Attachment, Caller, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.states import MIGRATION_SETTLED, AttachStatus, VolumeStatus
from firebrick.errors import Conflict, InvalidInput, NotFound

__all__ = ["SERVICE_ROLE", "check_removable", "connection_info", "not_found", "settle"]

# Cinder's ``[keystone_authtoken] service_token_roles`` default: the role the compute service acts with.
SERVICE_ROLE = "service"


def settle(status: str, migration_status: str | None, left: tuple[Attachment, ...]) -> tuple[str, str]:
    """The volume's (status, attach_status) once some of its attachments are gone.

    While an upload or a migration owns the volume its status is left alone (Cinder's
    ``volume_detached``); otherwise it follows what is left: ``in-use`` if anything is
    still attached, ``reserved`` if only reservations remain, else ``available``.
    """
    attached = any(a.attach_status == AttachStatus.ATTACHED for a in left)
    attach_status = AttachStatus.ATTACHED if attached else AttachStatus.DETACHED
    if status == VolumeStatus.UPLOADING or migration_status not in MIGRATION_SETTLED:
        return status, attach_status
    if attached:
        return VolumeStatus.IN_USE, attach_status
    return (VolumeStatus.RESERVED if left else VolumeStatus.AVAILABLE), attach_status


def check_removable(ports: Ports, caller: Caller, volume: Volume, attachment_id: str | None) -> Attachment | None:
    """The attachment a detach removes, if the caller may remove it (bug #2004555, OSSA-2023-003).

    A user must not pull a disk from under a running server: an attachment that a
    compute host connected (it has an instance and connection info) is removed only
    by the compute service itself, which holds the ``service`` role (in its own token,
    or in the service token it sends along with a user's). Legacy
    attachments (os-attach records no connection) and bare reservations may go.

    Returns None when the volume has no attachments.

    Raises:
        NotFound: no such attachment.
        InvalidInput: the attachment belongs to another volume.
        Conflict: a compute host uses it, or no id was given and there are several.
    """
    as_service = SERVICE_ROLE in caller.roles or SERVICE_ROLE in caller.service_roles
    if attachment_id is None:
        if not volume.attachments:
            return None
        if len(volume.attachments) > 1 and not as_service:
            raise Conflict(_nova_uses(volume.attachments[0]))
        chosen = volume.attachments[0]
    else:
        found = ports.attachments.get(attachment_id)
        if found is None:
            raise not_found(attachment_id)
        if found.volume_id != volume.id:
            raise InvalidInput("Invalid volume: Mismatched volume and attachment")
        chosen = found
    if as_service or not chosen.instance_uuid or not chosen.connection_info:
        return chosen
    raise Conflict(_nova_uses(chosen))


def not_found(attachment_id: str) -> NotFound:
    message = f"Volume attachment could not be found with filter: attachment_id = {attachment_id}."
    return NotFound("VolumeAttachment", attachment_id, message)


def _nova_uses(attachment: Attachment) -> str:
    return f"Detach volume from instance {attachment.instance_uuid} using the Compute API"


def connection_info(ports: Ports, volume: Volume, mode: str, attachment_id: str | None) -> dict[str, Any]:
    """What a host connects to: the backend's connection, with Cinder's common keys.

    Raises:
        StorageError: the backend lost the volume.
    """
    info = ports.pool(volume.host).driver.connection_info(volume.storage_id)
    data = {
        **info["data"],
        "volume_id": volume.id,
        "access_mode": mode,
        "encrypted": False,
        "qos_specs": None,
        "discard": True,
    }
    return {**info, "data": data, "attachment_id": attachment_id, "serial": volume.id}

"""User messages: how a failure that happened after the 202 reaches the user.

Cinder's 3.3 messages API. A message belongs to the project of the resource
it is about and is kept for 30 days (Cinder's default ``message_ttl``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import timedelta

from firebrick.clock import utcnow
from firebrick.domain.model import Caller, Message
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope
from firebrick.errors import NotFound

__all__ = ["Event", "delete_message", "list_messages", "new_message", "show_message"]

_KEPT_FOR = timedelta(days=30)


class Event(enum.Enum):
    """What failed: (event id, resource type, the action as users read it)."""

    CREATE_VOLUME = ("VOLUME_VOLUME_001_001", "VOLUME", "create volume")
    DELETE_VOLUME = ("VOLUME_VOLUME_008_001", "VOLUME", "delete volume")
    EXTEND_VOLUME = ("VOLUME_VOLUME_007_001", "VOLUME", "extend volume")
    REVERT_VOLUME = ("VOLUME_VOLUME_014_001", "VOLUME", "revert volume")
    # Cinder's action 003 with its detail 004, FAILED_TO_UPLOAD_VOLUME.
    COPY_VOLUME_TO_IMAGE = ("VOLUME_VOLUME_003_004", "VOLUME", "copy volume to image")
    UNMANAGE_VOLUME = ("VOLUME_VOLUME_006_001", "VOLUME", "unmanage volume")  # Cinder's action 006
    # Cinder has no action id for retype (it tells no user when one goes nowhere); 020 is firebrick's own.
    RETYPE_VOLUME = ("VOLUME_VOLUME_020_001", "VOLUME", "retype volume")
    # Cinder tells no user when a manage fails (only a notification); 021 is firebrick's own.
    MANAGE_VOLUME = ("VOLUME_VOLUME_021_001", "VOLUME", "manage existing volume")
    # Cinder tells no user when a migration fails (the admin sees migration_status); 022 is firebrick's own.
    MIGRATE_VOLUME = ("VOLUME_VOLUME_022_001", "VOLUME", "migrate volume")
    CREATE_SNAPSHOT = ("VOLUME_SNAPSHOT_001_001", "SNAPSHOT", "create snapshot")
    DELETE_SNAPSHOT = ("VOLUME_SNAPSHOT_002_001", "SNAPSHOT", "delete snapshot")


def new_message(project_id: str, event: Event, resource_id: str, reason: str) -> Message:
    """The message that tells ``project_id`` why ``event`` failed, not yet stored."""
    event_id, resource_type, action = event.value
    now = utcnow()
    return Message(
        id=str(uuid.uuid4()),
        project_id=project_id,
        resource_type=resource_type,
        resource_uuid=resource_id,
        event_id=event_id,
        message_level="ERROR",
        user_message=f"{action}: {reason}",
        created_at=now,
        expires_at=now + _KEPT_FOR,
    )


def list_messages(ports: Ports, caller: Caller, resource_uuid: str | None = None) -> list[Message]:
    return ports.messages.find(scope(caller), resource_uuid)


def show_message(ports: Ports, caller: Caller, message_id: str) -> Message:
    """Raises NotFound for an unknown, expired or other project's message."""
    found = ports.messages.get(message_id, scope(caller))
    if found is None:
        raise NotFound("Message", message_id, f"Message {message_id} could not be found.")
    return found


def delete_message(ports: Ports, caller: Caller, message_id: str) -> None:
    """Raises NotFound for an unknown, expired or other project's message."""
    ports.messages.delete(show_message(ports, caller, message_id).id)

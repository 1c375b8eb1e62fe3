"""Finding the volumes and types a caller may see."""

from __future__ import annotations

from firebrick.domain.model import Caller, Volume, VolumeType
from firebrick.domain.ports import Ports
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput, NotFound

__all__ = ["DEFAULT_TYPE_NAME", "find_type", "metadata_writable_volume", "scope", "visible_volume"]

DEFAULT_TYPE_NAME = "__DEFAULT__"


def scope(caller: Caller) -> str | None:
    """The project a caller's lookups are limited to; admins see every project."""
    return None if caller.is_admin else caller.project_id


def visible_volume(ports: Ports, caller: Caller, volume_id: str) -> Volume:
    """The volume, if the caller may see it.

    Raises:
        NotFound: when it does not exist or belongs to another project (one answer for both).
    """
    volume = ports.volumes.get(volume_id, scope(caller))
    if volume is None:
        raise NotFound("Volume", volume_id)
    return volume


# While a volume is in these, its metadata (user's or image's) must not change.
_METADATA_FROZEN = frozenset({VolumeStatus.MAINTENANCE, VolumeStatus.UPLOADING})


def metadata_writable_volume(ports: Ports, caller: Caller, volume_id: str) -> Volume:
    """The volume, if the caller may see it and its metadata may change now.

    Raises:
        NotFound: when the caller cannot see it.
        InvalidInput: when it is in maintenance or uploading.
    """
    volume = visible_volume(ports, caller, volume_id)
    if volume.status in _METADATA_FROZEN:
        raise InvalidInput(f"Invalid volume: Volume {volume_id} status must not be {volume.status} to change metadata.")
    return volume


def find_type(ports: Ports, name_or_id: str | None, caller: Caller | None = None) -> VolumeType:
    """A volume type by name or id; the default type when none is named.

    Raises:
        NotFound: when no such type exists, or it is private and ``caller`` is no admin.
    """
    wanted = name_or_id or DEFAULT_TYPE_NAME
    found = ports.types.get(wanted) or ports.types.get_by_name(wanted)
    if found is not None and caller is not None and not found.is_public and not caller.is_admin:
        found = None  # Cinder's type lookup hides private types from non-admins
    if found is None:
        raise NotFound("VolumeType", wanted, f"Volume type with name {wanted} could not be found.")
    return found

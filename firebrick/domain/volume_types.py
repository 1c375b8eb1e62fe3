"""Volume types and their extra specs (admin-managed)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from firebrick.domain.model import Volume, VolumeType
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import DEFAULT_TYPE_NAME
from firebrick.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "USER_VISIBLE_SPECS",
    "backend_name",
    "create_type",
    "delete_extra_spec",
    "delete_type",
    "ensure_default_type",
    "get_type",
    "is_multiattach",
    "list_types",
    "set_extra_specs",
    "type_of",
    "update_type",
]

# Extra specs a non-admin may see (Cinder's user-visible list).
USER_VISIBLE_SPECS = frozenset({"multiattach", "RESKEY:availability_zones", "replication_enabled"})


def is_multiattach(volume_type: VolumeType) -> bool:
    """Whether volumes of this type may attach to several hosts: Cinder's exact spelling, nothing looser."""
    return volume_type.extra_specs.get("multiattach") == "<is> True"


def backend_name(volume_type: VolumeType) -> str | None:
    """The backend a type's volumes must live on, if it names one (with or without Cinder's
    ``capabilities:`` scope, as its capabilities filter reads it)."""
    specs = volume_type.extra_specs
    return specs.get("volume_backend_name") or specs.get("capabilities:volume_backend_name")


def get_type(ports: Ports, type_id: str) -> VolumeType:
    """Raises NotFound when there is no type with that id (or name)."""
    found = ports.types.get(type_id) or ports.types.get_by_name(type_id)
    if found is None:
        raise NotFound("VolumeType", type_id, f"Volume type {type_id} could not be found.")
    return found


def list_types(ports: Ports, public_only: bool) -> list[VolumeType]:
    return ports.types.all(public_only=public_only)


def type_of(ports: Ports, volume: Volume) -> VolumeType | None:
    """The volume's type; None when it was deleted since."""
    return ports.types.get(volume.volume_type_id)


def ensure_default_type(ports: Ports) -> VolumeType:
    """The ``__DEFAULT__`` type, created on first use as Cinder's migrations do."""
    found = ports.types.get_by_name(DEFAULT_TYPE_NAME)
    if found is not None:
        return found
    return create_type(ports, DEFAULT_TYPE_NAME, "Default Volume Type", True, {})


def create_type(
    ports: Ports, name: str, description: str | None, is_public: bool, extra_specs: Mapping[str, str]
) -> VolumeType:
    """Raises Conflict when the name is taken."""
    if ports.types.get_by_name(name) is not None:
        raise Conflict(f"Volume Type {name} already exists.")
    volume_type = VolumeType(str(uuid.uuid4()), name, description, is_public, dict(extra_specs))
    ports.types.insert(volume_type)
    return volume_type


def update_type(
    ports: Ports, type_id: str, name: str | None, description: str | None, is_public: bool | None
) -> VolumeType:
    """Raises NotFound for an unknown type, Conflict for a taken name, InvalidInput to rename the default."""
    current = get_type(ports, type_id)
    fields: dict[str, object] = {}
    if name is not None and name != current.name:
        if current.name == DEFAULT_TYPE_NAME:
            raise InvalidInput("The default volume type cannot be renamed.")
        if ports.types.get_by_name(name) is not None:
            raise Conflict(f"Volume Type {name} already exists.")
        fields["name"] = name
    if description is not None:
        fields["description"] = description
    if is_public is not None:
        fields["is_public"] = is_public
    if fields:
        ports.types.update(current.id, **fields)
    return get_type(ports, current.id)


def delete_type(ports: Ports, type_id: str) -> None:
    """Raises NotFound, or InvalidInput when the type is the default or still used by volumes."""
    current = get_type(ports, type_id)
    if current.name == DEFAULT_TYPE_NAME:
        raise InvalidInput("Default volume type can not be deleted.")
    if ports.types.in_use(current.id):
        raise InvalidInput("Target volume type is still in use.")
    ports.types.delete(current.id)


def set_extra_specs(ports: Ports, type_id: str, specs: Mapping[str, str]) -> dict[str, str]:
    """Merge extra specs into a type. Raises NotFound for an unknown type."""
    current = get_type(ports, type_id)
    ports.types.set_extra_specs(current.id, specs)
    return dict(specs)


def delete_extra_spec(ports: Ports, type_id: str, key: str) -> None:
    """Raises NotFound for an unknown type or key."""
    current = get_type(ports, type_id)
    if not ports.types.delete_extra_spec(current.id, key):
        raise NotFound("VolumeTypeExtraSpecs", key, f"Volume Type {current.id} has no extra specs with key {key}.")

"""Flavors: a few defaults sized for the small guest, and an admin's own."""

from __future__ import annotations

import dataclasses
import uuid

from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.model import Flavor
from firebrick.errors import Conflict, NotFound

__all__ = ["DEFAULT_FLAVORS", "create_flavor", "delete_flavor", "ensure_default_flavors", "find_flavor", "list_flavors"]

# Ids as DevStack numbers them; the tiny guest boots in 256 MiB.
DEFAULT_FLAVORS = (
    Flavor("1", "m1.tiny", vcpus=1, ram=256, disk=1),
    Flavor("2", "m1.small", vcpus=1, ram=512, disk=1),
    Flavor("3", "m1.medium", vcpus=2, ram=1024, disk=1),
)


def ensure_default_flavors(ports: ComputePorts) -> None:
    for flavor in DEFAULT_FLAVORS:
        if ports.flavors.get(flavor.id) is None:
            ports.flavors.add(flavor)


def list_flavors(ports: ComputePorts, is_admin: bool) -> list[Flavor]:
    return [f for f in ports.flavors.all() if f.is_public or is_admin]


def find_flavor(ports: ComputePorts, flavor_ref: str) -> Flavor:
    """A flavor by id, or by a link whose last segment is its id. Raises NotFound."""
    flavor_id = flavor_ref.rstrip("/").rsplit("/", 1)[-1]
    found = ports.flavors.get(flavor_id)
    if found is None:
        raise NotFound("Flavor", flavor_id, f"Flavor {flavor_id} could not be found.")
    return found


def create_flavor(ports: ComputePorts, flavor: Flavor) -> Flavor:
    """Raises Conflict when the id or the name is taken; an empty id gets a uuid."""
    made = flavor if flavor.id else dataclasses.replace(flavor, id=str(uuid.uuid4()))
    if not ports.flavors.add(made):
        raise Conflict(f"Flavor with ID {made.id} or name {made.name} already exists.")
    return made


def delete_flavor(ports: ComputePorts, flavor_id: str) -> None:
    if not ports.flavors.delete(flavor_id):
        raise NotFound("Flavor", flavor_id, f"Flavor {flavor_id} could not be found.")

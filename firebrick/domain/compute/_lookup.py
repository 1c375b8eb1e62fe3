"""Finding servers a caller may act on, and Nova's state checks."""

from __future__ import annotations

from collections.abc import Collection

from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.model import Caller, Server
from firebrick.domain.volume.lookup import scope
from firebrick.errors import Conflict, NotFound

__all__ = ["check_state", "check_unlocked", "visible_server"]


def visible_server(ports: ComputePorts, caller: Caller, server_id: str) -> Server:
    """Raises NotFound when the server does not exist or belongs to another project."""
    found = ports.servers.get(server_id, scope(caller))
    if found is None:
        raise NotFound("Instance", server_id, f"Instance {server_id} could not be found.")
    return found


def check_unlocked(caller: Caller, server: Server) -> None:
    """Raises Conflict when the server is locked and the caller is no admin (admins pass a lock)."""
    if server.locked and not caller.is_admin:
        raise Conflict(f"Instance {server.id} is locked")


def check_state(server: Server, action: str, vm_states: Collection[str]) -> None:
    """Nova's check_instance_state: an allowed vm_state, no task in flight, launched once.

    Raises:
        Conflict: ``Cannot '<action>' instance <id> while it is in <attr> <state>``.
    """
    if server.vm_state not in vm_states:
        raise _invalid_state(server, action, "vm_state", server.vm_state)
    if server.task_state is not None:
        raise _invalid_state(server, action, "task_state", server.task_state)
    if server.launched_at is None:
        raise _invalid_state(server, action, "launched_at", "None")


def _invalid_state(server: Server, action: str, attr: str, state: str) -> Conflict:
    return Conflict(f"Cannot '{action}' instance {server.id} while it is in {attr} {state}")

"""The guest's serial console (``os-getConsoleOutput``): how users, and tests, read what it reports."""

from __future__ import annotations

from firebrick.domain.compute._lookup import check_state, visible_server
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.compute.states import VmState

__all__ = ["console_output"]


def console_output(ports: ComputePorts, asked: Request, server_id: str, length: int | None) -> str:
    """The last ``length`` lines (all when None). Raises NotFound, or Conflict unless the server runs."""
    server = visible_server(ports, asked.caller, server_id)
    check_state(server, "get_console_output", {VmState.ACTIVE})
    return ports.hypervisor.console_output(server.id, length)

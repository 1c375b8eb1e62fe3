"""Locking a server against changes by its own project (``lock``/``unlock``); admins pass a lock."""

from __future__ import annotations

from firebrick.domain.compute._lookup import visible_server
from firebrick.domain.compute.actions import record
from firebrick.domain.compute.ports import ComputePorts, Request

__all__ = ["set_locked"]


def set_locked(ports: ComputePorts, asked: Request, server_id: str, locked: bool, reason: str | None = None) -> None:
    """Raises NotFound for a server the caller cannot see."""
    server = visible_server(ports, asked.caller, server_id)
    ports.servers.update(server.id, locked=locked, locked_reason=reason if locked else None)
    record(ports, asked, server, "lock" if locked else "unlock")

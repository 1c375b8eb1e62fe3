"""Enabling and disabling a service: a disabled volume service takes no new volumes."""

from __future__ import annotations

from firebrick.domain.ports import Ports
from firebrick.errors import NotFound

__all__ = ["set_disabled"]


def set_disabled(ports: Ports, host: str, binary: str, disabled: bool, reason: str | None) -> None:
    """Raises NotFound when no service of that binary runs on that host."""
    if ports.services is None or not ports.services.set_disabled(host, binary, disabled, reason):
        raise NotFound("Service", host, "Service could not be found.")

"""What the compute domain needs from the outside: its rows, the hypervisor, the block-storage API.

Like ``domain.ports``, the concrete classes are named for type checking only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from firebrick.domain.model import Caller

if TYPE_CHECKING:
    from firebrick.db import ActionRepository, FlavorRepository, JobRepository, MappingRepository, ServerRepository
    from firebrick.remote import VolumeClient
    from firebrick.virt.base import Hypervisor

__all__ = ["ComputePorts", "Request"]


@dataclass(frozen=True, slots=True)
class Request:
    """Who asks, the request id Nova keys instance actions by, and the caller's token
    (forwarded to the block-storage API, so it decides what the user may see)."""

    caller: Caller
    request_id: str
    token: str | None = None


@dataclass(frozen=True)
class ComputePorts:
    servers: ServerRepository
    mappings: MappingRepository
    flavors: FlavorRepository
    actions: ActionRepository
    jobs: JobRepository
    volumes: VolumeClient
    hypervisor: Hypervisor
    image_exists: Callable[[str], bool]
    node: str
    zone: str
    # This host's connector, as os-brick would describe it to the block-storage side.
    connector: dict[str, Any]
    wake_worker: Callable[[], None] = lambda: None

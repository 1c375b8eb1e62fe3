"""Listing what manage could take in: every file of a backend's pools (admin).

Files that are volumes already are listed too, as Cinder's drivers list them:
not safe to manage, "already managed", with the volume's id. Sorting is by
``reference`` (the file name) or ``size``; the marker is a reference (Cinder's
``{"source-name": ...}``), and the window is ``offset`` entries past it, at most
``limit`` long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firebrick.domain.model import Page
from firebrick.domain.ports import Ports
from firebrick.errors import InvalidInput, NotFound
from firebrick.storage.base import PoolObject

__all__ = ["ManageableVolume", "list_manageable"]

_ALREADY_MANAGED = "already managed"


@dataclass(frozen=True, slots=True)
class ManageableVolume:
    reference: str  # the file's name: the ``source-name`` manage takes
    size: int
    safe_to_manage: bool
    reason_not_safe: str | None
    cinder_id: str | None
    extra_info: dict[str, Any]


def list_manageable(ports: Ports, host: str, page: Page) -> list[ManageableVolume]:
    """The files of the pools of ``host`` (``host``, ``host@backend`` or ``host@backend#pool``).

    Raises:
        NotFound: no pool of this node has that host (Cinder's ServiceNotFound, a 404).
        InvalidInput: the marker names no listed file.
    """
    pools = [p for p in ports.pools if host in (p.host, p.host.partition("#")[0], p.host.partition("@")[0])]
    if not pools:
        raise NotFound("Service", host, f"Service {host} could not be found.")
    found = [_entry(ports, listed) for pool in pools for listed in pool.driver.pool_objects()]
    for key, direction in reversed(page.sort):  # the last key first: sorted() is stable
        found.sort(key=lambda entry: getattr(entry, key), reverse=direction == "desc")
    start = 0
    if page.marker is not None:
        names = [entry.reference for entry in found]
        if page.marker not in names:
            raise InvalidInput(f"marker not found: {page.marker}")
        start = names.index(page.marker) + 1
    start += page.offset
    return found[start : None if page.limit is None else start + page.limit]


def _entry(ports: Ports, listed: PoolObject) -> ManageableVolume:
    managed = listed.volume_id is not None and ports.volumes.get(listed.volume_id) is not None
    reason = _ALREADY_MANAGED if managed else listed.refusal
    return ManageableVolume(
        reference=listed.name,
        size=listed.size_gb,
        safe_to_manage=reason is None,
        reason_not_safe=reason,
        cinder_id=listed.volume_id if managed else None,
        extra_info={"format": listed.format, "allocated_bytes": listed.allocated_bytes},
    )

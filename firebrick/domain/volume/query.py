"""Reading volumes: show, list, count and summary, scoped to what the caller may see."""

from __future__ import annotations

from firebrick.domain.model import Caller, Page, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume

__all__ = ["count_volumes", "list_volumes", "show_volume", "summarize_volumes"]


def show_volume(ports: Ports, caller: Caller, volume_id: str) -> Volume:
    """Raises NotFound when the caller cannot see the volume."""
    return visible_volume(ports, caller, volume_id)


def _listing_scope(caller: Caller, all_tenants: bool, project_id: str | None) -> str | None:
    # Cinder: admins list their own project unless they ask for all_tenants (or name a project).
    if caller.is_admin and (all_tenants or project_id):
        return project_id
    return caller.project_id


def list_volumes(
    ports: Ports, caller: Caller, page: Page, all_tenants: bool = False, project_id: str | None = None
) -> list[Volume]:
    """Raises NotFound when the marker names no visible volume."""
    return ports.volumes.find(page, _listing_scope(caller, all_tenants, project_id))


def count_volumes(
    ports: Ports, caller: Caller, page: Page, all_tenants: bool = False, project_id: str | None = None
) -> int:
    return ports.volumes.count(page, _listing_scope(caller, all_tenants, project_id))


def summarize_volumes(ports: Ports, caller: Caller, all_tenants: bool = False) -> tuple[int, int]:
    """(count, total GiB) of the volumes in scope."""
    return ports.volumes.summary(_listing_scope(caller, all_tenants, None))

"""Reading and renaming snapshots, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Mapping

from firebrick.domain.model import Caller, Page, Snapshot
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import scope
from firebrick.errors import NotFound

__all__ = ["list_snapshots", "update_snapshot", "visible_snapshot"]


def visible_snapshot(ports: Ports, caller: Caller, snapshot_id: str) -> Snapshot:
    """Raises NotFound when it does not exist or belongs to another project."""
    snapshot = ports.snapshots.get(snapshot_id, scope(caller))
    if snapshot is None:
        raise NotFound("Snapshot", snapshot_id)
    return snapshot


def list_snapshots(ports: Ports, caller: Caller, page: Page, all_tenants: bool = False) -> list[Snapshot]:
    project = None if caller.is_admin and all_tenants else caller.project_id
    return ports.snapshots.find(page, project)


def update_snapshot(ports: Ports, caller: Caller, snapshot_id: str, fields: Mapping[str, str | None]) -> Snapshot:
    """Rename or re-describe a snapshot. Raises NotFound when it is not visible."""
    visible_snapshot(ports, caller, snapshot_id)
    ports.snapshots.update(snapshot_id, **fields)
    return visible_snapshot(ports, caller, snapshot_id)

from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.create import SnapshotRequest
from firebrick.domain.snapshot.create import request_create as request_snapshot
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.delete import request_delete
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput, NotFound
from tests.fixtures_domain import drain


def _available(ports: Ports, caller: Caller, size: int = 1) -> str:
    volume = request_create(ports, caller, CreateRequest(size=size))
    drain(ports)
    return volume.id


def test_delete_removes_row_and_backend_object(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member)
    request_delete(ports, member, volume_id)
    assert ports.volumes.get(volume_id).status == VolumeStatus.DELETING  # type: ignore[union-attr]
    drain(ports)
    assert ports.volumes.get(volume_id) is None
    assert ports.pools[0].driver.capacity().free_bytes == 10 * 1024**3


def test_delete_of_a_creating_volume_is_refused(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    with pytest.raises(InvalidInput, match="must be available or error"):
        request_delete(ports, member, volume.id)
    assert ports.volumes.get(volume.id).status == VolumeStatus.CREATING  # type: ignore[union-attr]


def test_force_deletes_from_any_status(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    request_delete(ports, member, volume.id, force=True)
    drain(ports)
    assert ports.volumes.get(volume.id) is None


def test_snapshots_block_delete_unless_cascade(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member)
    snapshot = request_snapshot(ports, member, SnapshotRequest(volume_id=volume_id))
    drain(ports)
    with pytest.raises(InvalidInput, match="have snapshots"):
        request_delete(ports, member, volume_id)
    request_delete(ports, member, volume_id, cascade=True)
    drain(ports)
    assert ports.volumes.get(volume_id) is None and ports.snapshots.get(snapshot.id) is None


def test_another_projects_volume_is_not_found(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    volume_id = _available(ports, admin_caller)
    with pytest.raises(NotFound):
        request_delete(ports, member, volume_id)

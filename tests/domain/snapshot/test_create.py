from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.create import SnapshotRequest, request_create
from firebrick.domain.snapshot.delete import request_delete
from firebrick.domain.volume.create import CreateRequest
from firebrick.domain.volume.create import request_create as create_volume
from firebrick.domain.volume.states import SnapshotStatus
from firebrick.errors import InvalidInput, InvalidState, NotFound, QuotaExceeded
from tests.fixtures_domain import drain


def _volume(ports: Ports, caller: Caller) -> str:
    volume = create_volume(ports, caller, CreateRequest(size=1))
    drain(ports)
    return volume.id


def test_snapshot_becomes_available_and_can_be_deleted(ports: Ports, member: Caller) -> None:
    snapshot = request_create(ports, member, SnapshotRequest(volume_id=_volume(ports, member), name="s"))
    assert snapshot.status == SnapshotStatus.CREATING and snapshot.size == 1
    drain(ports)
    done = ports.snapshots.get(snapshot.id)
    assert done is not None and done.status == SnapshotStatus.AVAILABLE and done.progress == "100%"
    request_delete(ports, member, snapshot.id)
    drain(ports)
    assert ports.snapshots.get(snapshot.id) is None


def test_missing_or_null_volume_is_not_found(ports: Ports, member: Caller) -> None:
    for volume_id in (None, "0b0b0b0b-0000-0000-0000-000000000000"):
        with pytest.raises(NotFound):
            request_create(ports, member, SnapshotRequest(volume_id=volume_id))


def test_a_creating_volume_cannot_be_snapshotted(ports: Ports, member: Caller) -> None:
    volume = create_volume(ports, member, CreateRequest(size=1))
    with pytest.raises(InvalidInput, match="status must be available"):
        request_create(ports, member, SnapshotRequest(volume_id=volume.id))


def test_force_false_is_refused_from_3_66(ports: Ports, member: Caller) -> None:
    with pytest.raises(InvalidInput, match="must not be false"):
        request_create(
            ports, member, SnapshotRequest(volume_id=_volume(ports, member), force=False, in_use_without_force=True)
        )


def test_snapshot_quota(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    ports.quotas.set(member.project_id, {"snapshots": 1})
    request_create(ports, member, SnapshotRequest(volume_id=volume_id))
    with pytest.raises(QuotaExceeded):
        request_create(ports, member, SnapshotRequest(volume_id=volume_id))


def test_a_creating_snapshot_cannot_be_deleted(ports: Ports, member: Caller) -> None:
    snapshot = request_create(ports, member, SnapshotRequest(volume_id=_volume(ports, member)))
    with pytest.raises(InvalidState):
        request_delete(ports, member, snapshot.id)

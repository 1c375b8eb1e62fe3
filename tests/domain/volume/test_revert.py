from __future__ import annotations

import pytest

from firebrick.domain import recovery
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.create import SnapshotRequest
from firebrick.domain.snapshot.create import request_create as take_snapshot
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.extend import request_extend
from firebrick.domain.volume.revert import request_revert
from firebrick.domain.volume.states import SnapshotStatus, VolumeStatus
from firebrick.errors import Conflict, InvalidInput
from tests.fixtures_domain import drain


def _volume_with_snapshots(ports: Ports, caller: Caller, count: int) -> tuple[str, list[str]]:
    volume = request_create(ports, caller, CreateRequest(size=1))
    drain(ports)
    snapshots = []
    for _ in range(count):
        snapshots.append(take_snapshot(ports, caller, SnapshotRequest(volume_id=volume.id)).id)
        drain(ports)
    return volume.id, snapshots


def test_revert_moves_both_and_settles_both(ports: Ports, member: Caller) -> None:
    volume_id, [snapshot_id] = _volume_with_snapshots(ports, member, 1)
    request_revert(ports, member, volume_id, snapshot_id)
    assert ports.volumes.get(volume_id).status == VolumeStatus.REVERTING  # type: ignore[union-attr]
    assert ports.snapshots.get(snapshot_id).status == SnapshotStatus.RESTORING  # type: ignore[union-attr]
    drain(ports)
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert ports.snapshots.get(snapshot_id).status == SnapshotStatus.AVAILABLE  # type: ignore[union-attr]


def test_only_the_latest_snapshot_of_the_same_size(ports: Ports, member: Caller) -> None:
    volume_id, [older, latest] = _volume_with_snapshots(ports, member, 2)
    with pytest.raises(InvalidInput, match="not the latest one"):
        request_revert(ports, member, volume_id, older)
    with pytest.raises(InvalidInput, match="is None or not the latest"):
        request_revert(ports, member, volume_id, None)
    request_extend(ports, member, volume_id, 2)
    drain(ports)
    with pytest.raises(InvalidInput, match="must be equal to the snapshot size"):
        request_revert(ports, member, volume_id, latest)


def test_no_snapshots(ports: Ports, member: Caller) -> None:
    volume_id, _ = _volume_with_snapshots(ports, member, 0)
    with pytest.raises(InvalidInput, match="doesn't have any snapshots"):
        request_revert(ports, member, volume_id, None)


def test_a_snapshot_that_cannot_move_leaves_the_volume_as_it_was(ports: Ports, member: Caller) -> None:
    volume_id, [snapshot_id] = _volume_with_snapshots(ports, member, 1)
    ports.snapshots.transition(snapshot_id, {SnapshotStatus.AVAILABLE}, SnapshotStatus.ERROR, override=True)
    with pytest.raises(Conflict):
        request_revert(ports, member, volume_id, snapshot_id)
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert ports.jobs.pending(ports.node) == []


def test_a_revert_that_lost_its_job_ends_in_error_and_frees_the_snapshot(ports: Ports, member: Caller) -> None:
    volume_id, [snapshot_id] = _volume_with_snapshots(ports, member, 1)
    request_revert(ports, member, volume_id, snapshot_id)
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)
    assert recovery.recover(ports) == 2
    assert ports.volumes.get(volume_id).status == VolumeStatus.ERROR  # type: ignore[union-attr]
    assert ports.snapshots.get(snapshot_id).status == SnapshotStatus.AVAILABLE  # type: ignore[union-attr]

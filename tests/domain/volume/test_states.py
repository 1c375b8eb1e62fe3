from __future__ import annotations

from firebrick.domain.volume.states import ALLOWED, DELETABLE, SNAPSHOT_ALLOWED, SnapshotStatus, VolumeStatus


def test_every_transition_joins_known_statuses() -> None:
    for source, targets in ALLOWED.items():
        assert isinstance(source, VolumeStatus)
        assert targets and all(isinstance(t, VolumeStatus) for t in targets)
        assert source not in targets, f"{source} loops onto itself"


def test_every_snapshot_transition_joins_known_statuses() -> None:
    for source, targets in SNAPSHOT_ALLOWED.items():
        assert isinstance(source, SnapshotStatus)
        assert all(isinstance(t, SnapshotStatus) for t in targets)


def test_deletable_statuses_can_all_move_to_deleting() -> None:
    for status in DELETABLE:
        assert VolumeStatus.DELETING in ALLOWED[status]


def test_transitional_statuses_have_a_way_out() -> None:
    # Nothing may be a dead end that only reset-status could leave.
    for status in (VolumeStatus.CREATING, VolumeStatus.DELETING, VolumeStatus.EXTENDING):
        assert ALLOWED[status]


def test_status_values_are_cinders() -> None:
    assert VolumeStatus.IN_USE == "in-use"
    assert VolumeStatus.ERROR_EXTENDING == "error_extending"
    assert len(VolumeStatus) == 23  # Cinder's 22, and reverting (which Cinder keeps out of its enum)

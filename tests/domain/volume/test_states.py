from __future__ import annotations

from firebrick.domain.volume.states import (
    ALLOWED,
    DELETABLE,
    RESETTABLE,
    SNAPSHOT_ALLOWED,
    SnapshotStatus,
    VolumeStatus,
)


def test_every_transition_joins_known_statuses() -> None:
    for source, targets in ALLOWED.items():
        assert isinstance(source, VolumeStatus)
        assert targets and all(isinstance(t, VolumeStatus) for t in targets)
        # The loops the code needs: managing's size is charged, an attached extend's new size is
        # recorded, and available's readonly flag is set, each by a compare-and-set that keeps the status.
        loops = {VolumeStatus.MANAGING, VolumeStatus.EXTENDING, VolumeStatus.AVAILABLE}
        assert source not in targets or source in loops, f"{source} loops onto itself"


def test_every_snapshot_transition_joins_known_statuses() -> None:
    for source, targets in SNAPSHOT_ALLOWED.items():
        assert isinstance(source, SnapshotStatus)
        assert all(isinstance(t, SnapshotStatus) for t in targets)


def test_deletable_statuses_can_all_move_to_deleting() -> None:
    for status in DELETABLE:
        assert VolumeStatus.DELETING in ALLOWED[status]


def test_transitional_statuses_have_a_way_out() -> None:
    # Nothing may be a dead end that only reset-status could leave.
    for status in (
        VolumeStatus.CREATING,
        VolumeStatus.DELETING,
        VolumeStatus.EXTENDING,
        VolumeStatus.RETYPING,
        VolumeStatus.MANAGING,
        VolumeStatus.UNMANAGING,
    ):
        assert ALLOWED[status]


def test_status_values_are_cinders() -> None:
    assert VolumeStatus.IN_USE == "in-use"
    assert VolumeStatus.ERROR_EXTENDING == "error_extending"
    # Cinder's 22, and reverting and unmanaging (which Cinder uses but keeps out of its enum).
    assert len(VolumeStatus) == 24


def test_unmanage_leaves_from_where_delete_does_and_can_go_back() -> None:
    for status in DELETABLE:
        assert VolumeStatus.UNMANAGING in ALLOWED[status]
    assert ALLOWED[VolumeStatus.UNMANAGING] == DELETABLE


def test_retype_returns_where_it_came_from() -> None:
    for status in (VolumeStatus.AVAILABLE, VolumeStatus.IN_USE):
        assert VolumeStatus.RETYPING in ALLOWED[status]
        assert status in ALLOWED[VolumeStatus.RETYPING]


def test_internal_statuses_are_no_reset_targets() -> None:
    assert VolumeStatus.REVERTING not in RESETTABLE and VolumeStatus.UNMANAGING not in RESETTABLE
    assert VolumeStatus.RETYPING in RESETTABLE  # in Cinder's enum

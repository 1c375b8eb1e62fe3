from __future__ import annotations

from firebrick.domain.image.states import ALLOWED, ImageStatus, Visibility


def test_every_transition_joins_known_statuses() -> None:
    for source, targets in ALLOWED.items():
        assert isinstance(source, ImageStatus)
        assert targets and all(isinstance(t, ImageStatus) for t in targets)
        assert source not in targets


def test_values_are_glances() -> None:
    assert {s.value for s in ImageStatus} >= {"queued", "saving", "active", "killed", "deactivated"}
    assert {v.value for v in Visibility} == {"public", "private", "shared", "community"}

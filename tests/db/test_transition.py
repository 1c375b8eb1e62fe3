"""The compare-and-set status writer, on the real database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from tests.fixtures_domain import drain


def test_transition_applies_only_from_an_expected_status(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    assert not ports.volumes.transition(volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.DELETING)
    assert ports.volumes.get(volume.id).status == VolumeStatus.CREATING  # type: ignore[union-attr]
    assert ports.volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.ERROR, error_reason="x")
    after = ports.volumes.get(volume.id)
    assert after is not None and after.status == VolumeStatus.ERROR and after.error_reason == "x"
    assert after.updated_at is not None


def test_concurrent_transitions_have_exactly_one_winner(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda _: ports.volumes.transition(volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.DELETING),
                range(16),
            )
        )
    assert results.count(True) == 1


def test_transition_and_its_job_commit_together(ports: Ports, member: Caller) -> None:
    from firebrick.domain.jobs import new_job
    from firebrick.domain.volume.delete import DELETE

    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    job = new_job(ports, DELETE, volume.id)
    assert not ports.volumes.transition(volume.id, {VolumeStatus.ERROR}, VolumeStatus.DELETING, job=job)
    assert ports.jobs.get(job.id) is None  # no status change, no job
    assert ports.volumes.transition(volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.DELETING, job=job)
    assert ports.jobs.get(job.id) is not None

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from firebrick.domain.jobs import BoundKind, JobKind, new_job
from firebrick.domain.model import Caller, Job
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.node import JOB_KINDS, Node
from firebrick.workers import JobRunner


@pytest.fixture
def runner(node: Node) -> Iterator[JobRunner]:
    running = JobRunner(node.repos.jobs, node.ports.node, _bound(node), threads=2)
    object.__setattr__(node.ports, "wake_worker", running.wake)
    running.start()
    yield running
    running.stop()


def _bound(node: Node) -> dict[str, BoundKind]:
    return {name: kind.bind(lambda: node.ports) for name, kind in JOB_KINDS.items()}


def _wait_status(ports: Ports, volume_id: str, status: str) -> None:
    reached = threading.Event()
    for _ in range(500):
        volume = ports.volumes.get(volume_id)
        if volume is not None and volume.status == status:
            reached.set()
            break
        reached.wait(0.01)
    assert reached.is_set(), f"volume {volume_id} never reached {status}"


def test_runner_runs_jobs_when_woken(node: Node, runner: JobRunner, member: Caller) -> None:
    volumes = [request_create(node.ports, member, CreateRequest(size=1)) for _ in range(5)]
    for volume in volumes:
        _wait_status(node.ports, volume.id, VolumeStatus.AVAILABLE)
    assert node.ports.jobs.pending(node.ports.node) == []


def test_runner_resumes_jobs_left_by_a_previous_process(node: Node, member: Caller) -> None:
    volume = request_create(node.ports, member, CreateRequest(size=1))  # nobody ran it: that process died
    fresh = JobRunner(node.repos.jobs, node.ports.node, _bound(node))
    fresh.start()
    try:
        _wait_status(node.ports, volume.id, VolumeStatus.AVAILABLE)
    finally:
        fresh.stop()


def test_a_step_that_keeps_failing_is_retried_then_compensated(node: Node) -> None:
    gave_up = threading.Event()
    attempts: list[int] = []

    def explode(_ports: Ports, job: Job) -> None:
        attempts.append(job.attempt)
        raise RuntimeError("boom")

    def give_up(ports: Ports, job: Job, reason: str) -> None:
        assert reason == "internal error: boom"
        ports.jobs.finish(job.id)
        gave_up.set()

    kind = JobKind("test.explode", explode, give_up)
    node.ports.jobs.add(new_job(node.ports, kind, "resource-1"))
    runner = JobRunner(node.repos.jobs, node.ports.node, {kind.name: kind.bind(lambda: node.ports)}, max_attempts=3)
    runner.start()
    try:
        assert gave_up.wait(10)
    finally:
        runner.stop()
    assert attempts == [0, 1, 2]
    assert node.ports.jobs.pending(node.ports.node) == []


def test_a_failing_compensation_parks_the_job_instead_of_spinning(node: Node) -> None:
    attempts: list[int] = []
    compensations: list[str] = []

    def explode(_ports: Ports, job: Job) -> None:
        attempts.append(job.attempt)
        raise RuntimeError("boom")

    def give_up_badly(_ports: Ports, job: Job, reason: str) -> None:
        compensations.append(job.id)
        raise RuntimeError("compensation broken too")

    kind = JobKind("test.broken", explode, give_up_badly)
    job = new_job(node.ports, kind, "resource-2")
    node.ports.jobs.add(job)
    runner = JobRunner(node.repos.jobs, node.ports.node, {kind.name: kind.bind(lambda: node.ports)}, max_attempts=2)
    runner.start()
    try:
        for _ in range(5):
            runner.wake()
            threading.Event().wait(0.1)
    finally:
        runner.stop()
    assert attempts == [0, 1] and compensations == [job.id]
    assert [j.id for j in node.ports.jobs.pending(node.ports.node)] == [job.id]  # parked, due again later
    assert node.ports.jobs.claim("another", [node.ports.node], limit=1, lease=5) == []

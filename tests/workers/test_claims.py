"""Jobs claimed in the database: each runs once, one resource's jobs one at a time, a stale
claimer's writes refused, a wait that holds no thread. Real database (SQLite, or PostgreSQL
when FIREBRICK_TEST_DATABASE_URL names one), several runners standing for several agents."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firebrick.domain.jobs import BoundKind, JobKind, new_job
from firebrick.domain.model import Caller, Job
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import StaleClaim
from firebrick.node import Node
from firebrick.workers import JobRunner


class Ledger:
    """What the test kinds did: runs per job, and whether two jobs of one resource overlapped."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.lock = threading.Lock()

    def run(self, ports: Ports, job: Job) -> None:
        with self.lock:
            self.runs[job.id] += 1
            if job.resource_id in self.active:
                self.overlaps.append(job.resource_id)
            self.active.add(job.resource_id)
        time.sleep(0.002)  # long enough for another runner to try the same resource
        with self.lock:
            self.active.discard(job.resource_id)
        ports.jobs.finish(job.id)


def _never_gives_up(_ports: Ports, job: Job, reason: str) -> None:
    raise AssertionError(f"job {job.id} gave up: {reason}")


@pytest.fixture
def runners(node: Node) -> Iterator[list[JobRunner]]:
    started: list[JobRunner] = []
    yield started
    for runner in started:
        runner.stop()


def _runner(node: Node, kinds: dict[str, BoundKind], runners: list[JobRunner], **options: Any) -> JobRunner:
    runner = JobRunner(node.repos.jobs, node.ports.node, kinds, **options)
    runners.append(runner)
    runner.start()
    return runner


def _wait_for(condition: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_three_runners_run_each_of_300_jobs_once_and_one_resource_at_a_time(
    node: Node, runners: list[JobRunner]
) -> None:
    ledger = Ledger()
    kind = JobKind("test.count", ledger.run, _never_gives_up)
    jobs = [new_job(node.ports, kind, f"resource-{n % 40}") for n in range(300)]
    for job in jobs:
        node.ports.jobs.add(job)
    kinds = {kind.name: kind.bind(lambda: node.ports)}
    for _ in range(3):
        _runner(node, kinds, runners)
    _wait_for(lambda: not node.ports.jobs.pending(node.ports.node))
    assert ledger.runs == Counter({job.id: 1 for job in jobs})
    assert ledger.overlaps == []


def test_a_lapsed_claim_is_taken_over_and_the_old_attempts_writes_are_refused(node: Node, member: Caller) -> None:
    volume = request_create(node.ports, member, CreateRequest(size=1))
    [first] = node.repos.jobs.claim("dead-agent", [node.ports.node], limit=1, lease=0.2)
    assert node.repos.jobs.claim("live-agent", [node.ports.node], limit=1, lease=30) == []  # still held
    time.sleep(0.3)
    [second] = node.repos.jobs.claim("live-agent", [node.ports.node], limit=1, lease=30)
    assert (second.id, second.epoch) == (first.id, first.epoch + 1)
    with node.repos.jobs.holding(first), pytest.raises(StaleClaim):
        node.ports.volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.ERROR)
    unchanged = node.ports.volumes.get(volume.id)
    assert unchanged is not None and unchanged.status == VolumeStatus.CREATING
    with node.repos.jobs.holding(second):
        assert node.ports.volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.AVAILABLE)
        node.ports.jobs.finish(second.id)
    assert node.repos.jobs.get(second.id) is None


def test_a_renewed_lease_is_not_taken_over(node: Node, runners: list[JobRunner]) -> None:
    release = threading.Event()
    runs: list[int] = []

    def hold(ports: Ports, job: Job) -> None:
        runs.append(job.epoch)
        release.wait(10)
        ports.jobs.finish(job.id)

    kind = JobKind("test.hold", hold, _never_gives_up)
    node.ports.jobs.add(new_job(node.ports, kind, "resource-held"))
    _runner(node, {kind.name: kind.bind(lambda: node.ports)}, runners, lease=0.6)
    _wait_for(lambda: runs)
    time.sleep(1.5)  # well past one lease: only the renewals keep it
    assert node.repos.jobs.claim("another", [node.ports.node], limit=1, lease=30) == []
    release.set()
    _wait_for(lambda: not node.ports.jobs.pending(node.ports.node))
    assert runs == [1]


def test_a_waiting_job_holds_no_thread_and_runs_again_at_its_deadline_or_when_made_due(
    node: Node, runners: list[JobRunner]
) -> None:
    steps: list[tuple[str, bool]] = []

    def wait_then_end(ports: Ports, job: Job) -> None:
        steps.append((job.resource_id, "waited" in job.payload))
        if "waited" in job.payload:
            ports.jobs.finish(job.id)
        else:
            ports.jobs.wait(job, 60 if job.resource_id == "called-back" else 0.5, waited=True)

    kind = JobKind("test.wait", wait_then_end, _never_gives_up)
    called_back = new_job(node.ports, kind, "called-back")
    timed_out = new_job(node.ports, kind, "times-out")
    others = [new_job(node.ports, kind, f"other-{n}") for n in range(4)]
    for job in (called_back, timed_out, *others):
        node.ports.jobs.add(job)
    # One thread: were a wait to hold it, nothing else would run.
    _runner(node, {kind.name: kind.bind(lambda: node.ports)}, runners, threads=1)
    # Every job ran twice (waited, then ended) but the one waiting for its callback.
    _wait_for(lambda: [job.id for job in node.ports.jobs.pending(node.ports.node)] == [called_back.id], timeout=10)
    assert len(steps) == 11
    node.ports.jobs.make_due(called_back.id)
    runners[0].wake()
    _wait_for(lambda: not node.ports.jobs.pending(node.ports.node), timeout=10)
    assert steps.count(("called-back", True)) == 1 and len(steps) == 12


def test_a_callback_that_comes_while_the_step_still_runs_is_not_lost(node: Node) -> None:
    kind = JobKind("test.race", _never_gives_up, _never_gives_up)  # steps run by hand below
    job = new_job(node.ports, kind, "resource-raced")
    node.ports.jobs.add(job)
    [claimed] = node.repos.jobs.claim("agent", [node.ports.node], limit=1, lease=30)
    node.ports.jobs.make_due(job.id)  # the callback, before the step put the job to wait
    with node.repos.jobs.holding(claimed):
        node.ports.jobs.wait(claimed, 60, asked=True)
    [again] = node.repos.jobs.claim("agent", [node.ports.node], limit=1, lease=30)
    assert (again.id, again.payload) == (job.id, {"asked": True})

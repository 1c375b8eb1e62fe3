"""A dead agent's job is taken over once its lease lapses, and the dead attempt's late writes are refused.

The first test kills an agent (``kill -9`` of its whole process group) while a shim holds its
extend between claiming the job and growing the file, restarts the node on the same data
directory, and reads from the new process's log when it claimed the job again: at a higher
epoch, and not before the old claim's lease ran out. The second does the same without
processes, on the job repository itself: a claim that lapsed and was taken over can no
longer write, the one that took it over can.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from firebrick.clock import utcnow
from firebrick.domain.model import Caller
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import StaleClaim
from firebrick.node import Node
from tests.workers.test_kill_actions import _pattern, _read_pattern
from tests.workers.test_kill_restart import _create, _pending_jobs, _wait
from tests.workers.test_many_processes import CLAIM, Served, node_client

GiB = 1024**3
# How long the killed agent's claim lasts: long enough that the restarted node is (usually) up
# before it lapses, so the test sees it wait; the restarted node itself uses 2 s leases.
_FIRST_LEASE = 12

# Loaded by the first node's interpreter: every raw growth is held before the file grows.
_SHIM = """
import time
from pathlib import Path

import firebrick.storage.file as storage_file


def _held(path, size):
    Path({marker!r}).touch()
    time.sleep(120)


storage_file._grow_raw = _held
"""


def _job_row(db_url: str, job_id: str) -> tuple[int, str | None, datetime | None, datetime] | None:
    """The job's epoch, claimer and lease, and the database's clock (naive UTC) when read."""
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT epoch, claimed_by, lease_until FROM jobs WHERE id = :id"), {"id": job_id}
        ).first()
        if engine.dialect.name == "postgresql":
            now = conn.execute(sa.text("SELECT timezone('UTC', now())")).scalar_one()
        else:
            now = utcnow()  # an embedded database's clock is this host's
    engine.dispose()
    if row is None:
        return None
    lease = row[2] if row[2] is None or isinstance(row[2], datetime) else datetime.fromisoformat(row[2])
    return int(row[0]), row[1], lease, now


def _logged_at(line_start: str) -> datetime:
    """A log line's time (``%(asctime)s``: local time, milliseconds) as naive UTC."""
    local = datetime.strptime(line_start[:23], "%Y-%m-%d %H:%M:%S,%f")
    return local.astimezone(UTC).replace(tzinfo=None)


def _claim_lines(text: str, job_id: str) -> list[tuple[datetime, int]]:
    found = []
    for line in text.splitlines():
        match = CLAIM.search(line)
        if match and match[1] == job_id:
            found.append((_logged_at(line), int(match[4])))
    return found


def test_kill_9_mid_extend_then_restart_takes_the_job_over_after_its_lease(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Served]
) -> None:
    directory, db_url = data_dir
    path, written, first, job_id = _extend_held_then_killed(tmp_path, directory, db_url, processes)
    held = _job_row(db_url, job_id)
    assert held is not None, "the job ended before the kill: nothing was tested"
    assert held[0] == 1 and held[1] is not None and held[1].startswith("A:")
    lease_until = held[2]
    assert lease_until is not None and lease_until > held[3]  # the dead claim has not lapsed yet
    assert path.stat().st_size == GiB  # died before the file grew

    second = Served(directory, db_url, "A", tmp_path / "second.log", lease=2)
    processes.append(second)
    # Until the dead claim lapses, the job stays the dead claimer's, whoever looks at it.
    seen_before_expiry = 0
    while (row := _job_row(db_url, job_id)) is not None and row[3] < lease_until:
        assert row[:3] == held[:3], row
        seen_before_expiry += 1
        time.sleep(0.1)
    client = node_client(second.url)
    _wait_size(client, client.headers["x-project"], path.name.removeprefix("volume-"), 3)
    client.close()

    claims = _claim_lines(second.text(), job_id)
    assert [epoch for _, epoch in claims] == [2], second.text()[-3000:]  # taken over once, one epoch up
    # and only after the old lease ran out (the log keeps milliseconds: allow for the truncation)
    assert claims[0][0] >= lease_until - timedelta(milliseconds=1), (claims, lease_until)
    assert [epoch for _, epoch in _claim_lines(first.text(), job_id)] == [1]
    assert path.stat().st_size == 3 * GiB
    assert _read_pattern(path, GiB) == written
    assert _pending_jobs(db_url) == 0
    assert not list(path.parent.rglob(".tmp-*"))
    print(f"the restarted node saw the dead claim {seen_before_expiry} times before it lapsed")


def _extend_held_then_killed(
    tmp_path: Path, directory: Path, db_url: str, processes: list[Served]
) -> tuple[Path, str, Served, str]:
    """A 1 GiB volume with known bytes, extended to 3 GiB by a node that is killed while the shim
    holds the growth; returns its file, the bytes' digest, the dead node and the extend's job id."""
    shim, marker = tmp_path / "shim", tmp_path / "growing"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(_SHIM.format(marker=str(marker)))
    first = Served(directory, db_url, "A", tmp_path / "first.log", python_first=shim, lease=_FIRST_LEASE)
    processes.append(first)
    client = node_client(first.url)
    project = client.headers["x-project"]
    volume_id = _create(client, project, "grow", 1)
    _wait(client, project, volume_id, "available")
    path = directory / "pools" / "file" / f"volume-{volume_id}"
    written = _pattern(path)
    response = client.post(f"/volume/v3/{project}/volumes/{volume_id}/action", json={"os-extend": {"new_size": 3}})
    assert response.status_code == 202, response.text
    client.close()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the extend never reached the shim"
        time.sleep(0.02)
    [(job_id, kind, resource, epoch)] = [claim for claim in first.claims() if claim[1] == "volume.extend"]
    assert (kind, resource, epoch) == ("volume.extend", volume_id, 1)
    first.kill_group()
    return path, written, first, job_id


def _wait_size(client: httpx.Client, project: str, volume_id: str, size: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        volume = client.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]
        if (volume["status"], volume["size"]) == ("available", size):
            return
        assert "error" not in volume["status"], volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.05)


def test_a_lapsed_claims_writes_are_refused_and_its_successors_land(node: Node, member: Caller) -> None:
    jobs, volumes = node.repos.jobs, node.ports.volumes
    volume = request_create(node.ports, member, CreateRequest(size=1, name="fenced"))
    [first] = jobs.claim("first", [node.ports.node], limit=10, lease=0.5)
    assert (first.resource_id, first.epoch) == (volume.id, 1)
    assert jobs.claim("second", [node.ports.node], limit=10, lease=60) == []  # held: nobody else gets it

    deadline = time.monotonic() + 10
    while not (taken := jobs.claim("second", [node.ports.node], limit=10, lease=60)):
        assert time.monotonic() < deadline, "the lapsed claim was never taken over"
        time.sleep(0.05)
    [second] = taken
    assert (second.id, second.epoch) == (first.id, first.epoch + 1)

    def row() -> tuple[str, int, str | None]:
        current = volumes.get(volume.id)
        assert current is not None
        [job] = jobs.for_resource(volume.id)
        with node.db.read() as conn:
            claimer = conn.execute(sa.text("SELECT claimed_by FROM jobs WHERE id = :id"), {"id": job.id}).scalar()
        return current.status, job.epoch, claimer

    before = row()
    assert before == (VolumeStatus.CREATING, 2, "second")
    # The first attempt wakes up late: everything it writes under its claim is refused, and changes nothing.
    with jobs.holding(first) as claim:
        with pytest.raises(StaleClaim):
            volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.AVAILABLE, done_job=first.id)
        with pytest.raises(StaleClaim):
            volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.ERROR, error_reason="late")
        with pytest.raises(StaleClaim):
            jobs.finish(first.id)
        with pytest.raises(StaleClaim):
            jobs.release(first, failed=True)
        with pytest.raises(StaleClaim):
            jobs.wait(first, 30, late=True)
        assert not claim.ended
    assert row() == before
    [job] = jobs.for_resource(volume.id)
    assert (job.attempt, job.payload) == (first.attempt, first.payload)

    # The claim that took over writes as usual: the volume is created and the job ends with it.
    with jobs.holding(second) as claim:
        assert volumes.transition(volume.id, {VolumeStatus.CREATING}, VolumeStatus.AVAILABLE, done_job=second.id)
        assert claim.ended
    current = volumes.get(volume.id)
    assert current is not None and current.status == VolumeStatus.AVAILABLE
    assert jobs.for_resource(volume.id) == []

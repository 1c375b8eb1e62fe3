"""Three nodes on one database, 300 jobs among them: each job runs once, on its own node, and no file is lost.

Nodes A and B are plain ``serve`` processes; node C is ``serve --workers 4`` (four uvicorn API
workers and its agent) and starts while A and B are already busy, so its start-up (schema
upgrade, bootstrap, recovery) runs against a database the others are writing. Every volume is
asked for at the node that owns it; the test drives each volume through create, extend,
snapshot create, snapshot delete and (for some) delete, as fast as the statuses allow. What
ran is read from the processes' own logs: the runner's ``claimed job`` line, one per claim.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, token_for
from tests.workers.test_kill_restart import _free_port, _pending_jobs

GiB = 1024**3
CLAIM = re.compile(r"claimed job (\S+) \((\S+) of (\S+)\) at epoch (\d+)")

# Per node: 25 creates + 25 extends + 20 snapshot creates + 20 snapshot deletes + 10 deletes = 100 jobs.
_VOLUMES, _SNAPSHOTTED, _DELETED = 25, 20, 10
_NODES = ("A", "B", "C")
_EXPECTED_KINDS = {
    "volume.create": 3 * _VOLUMES,
    "volume.extend": 3 * _VOLUMES,
    "snapshot.create": 3 * _SNAPSHOTTED,
    "snapshot.delete": 3 * _SNAPSHOTTED,
    "volume.delete": 3 * _DELETED,
}
# Room for every volume of the three nodes (Cinder's default quotas allow 10).
_CONFIG = """
[quota]
volumes = 1000
snapshots = 1000
gigabytes = 10000
"""


class Served:
    """``firebrick serve`` as node ``name``, in a session of its own, its stdout and stderr in ``log``."""

    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        name: str,
        log: Path,
        workers: int = 1,
        config: Path | None = None,
        python_first: Path | None = None,
        lease: float = 2,
    ) -> None:
        self.name, self.data_dir, self.log = name, data_dir, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as output:
            self.proc = subprocess.Popen(
                serve_command(data_dir, self.port, workers, config),
                env=serve_env(db_url, name, lease, python_first),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120  # API workers start slowly on a loaded host
        while True:
            try:
                httpx.get(self.url + "/")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"node {name} did not start:\n{self.text()[-3000:]}") from None
                time.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def claims(self) -> list[tuple[str, str, str, int]]:
        """Every ``claimed job`` line this node logged: (job id, kind, resource id, epoch)."""
        return [(m[1], m[2], m[3], int(m[4])) for m in CLAIM.finditer(self.text())]

    def kill_group(self) -> None:
        """SIGKILL the server and every process it started, as a node that loses power does."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # API workers that outlived their supervisor go too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


def node_client(url: str) -> httpx.Client:
    """The demo user's client of one node; ``x-project`` holds its project id.

    An idle pooled connection is dropped well before uvicorn's 5 s keep-alive timeout, so a
    request is never sent on a connection the server is closing (a POST is not retried)."""
    token = token_for(url, "demo", DEMO_PASSWORD, "demo")
    limits = httpx.Limits(keepalive_expiry=1.0)
    client = httpx.Client(base_url=url, headers={"X-Auth-Token": token}, limits=limits, timeout=30)
    body = client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
    client.headers["x-project"] = body["token"]["project"]["id"]
    return client


def serve_command(data_dir: Path, port: int, workers: int = 1, config: Path | None = None) -> list[str]:
    settings = ["--config", str(config)] if config is not None else []
    where = ["--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers)]
    return [sys.executable, "-m", "firebrick", "serve", *settings, *where]


def serve_env(db_url: str, name: str, lease: float = 2, python_first: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "FIREBRICK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "FIREBRICK_DEMO_PASSWORD": DEMO_PASSWORD,
        "FIREBRICK_DATABASE_URL": db_url,
        "FIREBRICK_HYPERVISOR": "fake",
        "FIREBRICK_NODE_NAME": name,
        "FIREBRICK_JOB_LEASE": str(lease),
    }
    if python_first is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_first), env.get("PYTHONPATH")]))
    return env


@dataclass
class Life:
    """One volume's way through the test: the steps left, the one in flight, what it made."""

    node: str
    name: str
    steps: list[str]
    volume_id: str | None = None
    snapshot_id: str | None = None
    current: str | None = None  # the step asked for, not yet seen done
    done: list[str] = field(default_factory=list)


def _plans() -> list[Life]:
    plans = []
    for node in _NODES:
        for index in range(_VOLUMES):
            steps = ["create", "extend"]
            if index < _SNAPSHOTTED:
                steps += ["snapshot", "unsnapshot"]
            if index < _DELETED:
                steps.append("delete")
            plans.append(Life(node, f"{node}-{index}", steps))
    return plans


def _finished(life: Life, volumes: Mapping[str, dict[str, object]], snapshots: Mapping[str, dict[str, object]]) -> bool:
    """Whether the step in flight is seen done; a status that can only be a failure fails the test."""
    volume = volumes.get(life.volume_id or "")
    if volume is not None:
        assert "error" not in str(volume["status"]), (life, volume)
    snapshot = snapshots.get(life.snapshot_id or "")
    if snapshot is not None:
        assert "error" not in str(snapshot["status"]), (life, snapshot)
    match life.current:
        case "create":
            return volume is not None and volume["status"] == "available"
        case "extend":
            return volume is not None and (volume["status"], volume["size"]) == ("available", 2)
        case "snapshot":
            return snapshot is not None and snapshot["status"] == "available"
        case "unsnapshot":
            return snapshot is None
        case "delete":
            return volume is None
    raise AssertionError(life)


def _ask(client: httpx.Client, project: str, life: Life, step: str) -> None:
    """Send one step's request to the volume's own node."""
    base = f"/volume/v3/{project}"
    match step:
        case "create":
            response = client.post(f"{base}/volumes", json={"volume": {"size": 1, "name": life.name}})
            assert response.status_code == 202, response.text
            life.volume_id = response.json()["volume"]["id"]
        case "extend":
            response = client.post(f"{base}/volumes/{life.volume_id}/action", json={"os-extend": {"new_size": 2}})
            assert response.status_code == 202, response.text
        case "snapshot":
            snapshot = {"volume_id": life.volume_id, "name": f"snap-{life.name}"}
            response = client.post(f"{base}/snapshots", json={"snapshot": snapshot})
            assert response.status_code == 202, response.text
            life.snapshot_id = response.json()["snapshot"]["id"]
        case "unsnapshot":
            response = client.delete(f"{base}/snapshots/{life.snapshot_id}")
            assert response.status_code == 202, response.text
        case "delete":
            response = client.delete(f"{base}/volumes/{life.volume_id}")
            assert response.status_code == 202, response.text


def _drive(plans: list[Life], clients: Callable[[], Mapping[str, httpx.Client]], timeout: float = 240) -> None:
    """Walk every volume through its steps, each asked for as soon as the last one is seen done.

    ``clients`` gives the nodes serving so far (a node that is not up yet simply waits)."""
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=12) as pool:
        while any(life.steps or life.current for life in plans):
            assert time.monotonic() < deadline, [life for life in plans if life.steps or life.current][:5]
            serving = dict(clients())
            if not serving:
                time.sleep(0.1)
                continue
            any_client = next(iter(serving.values()))
            project = any_client.headers["x-project"]
            volumes, snapshots = _listing(any_client, project)
            ready = []
            for life in plans:
                if life.node not in serving:
                    continue
                if life.current is not None and _finished(life, volumes, snapshots):
                    life.done.append(life.current)
                    life.current = None
                if life.current is None and life.steps:
                    life.current = life.steps.pop(0)
                    ready.append(life)
            for future in [
                pool.submit(_ask, serving[life.node], serving[life.node].headers["x-project"], life, life.current or "")
                for life in ready
            ]:
                future.result()
            time.sleep(0.25)


def _listing(client: httpx.Client, project: str) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """The project's volumes and snapshots, on every node (they share one database)."""
    volumes = client.get(f"/volume/v3/{project}/volumes/detail")
    snapshots = client.get(f"/volume/v3/{project}/snapshots/detail")
    assert volumes.status_code == snapshots.status_code == 200, (volumes.text, snapshots.text)
    return (
        {v["id"]: v for v in volumes.json()["volumes"]},
        {s["id"]: s for s in snapshots.json()["snapshots"]},
    )


def _serving(clients: Mapping[str, httpx.Client], late: list[BaseException]) -> dict[str, httpx.Client]:
    if late:
        raise late[0]
    return {name: clients[name] for name in _NODES if name in clients}


def _hosts(db_url: str) -> dict[str, str]:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, host FROM volumes")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def test_three_nodes_on_one_database_run_300_jobs_each_exactly_once(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Served]
) -> None:
    root, db_url = data_dir
    config = tmp_path / "firebrick.toml"
    config.write_text(_CONFIG)
    dirs = {name: root / name for name in _NODES}
    clients: dict[str, httpx.Client] = {}
    late: list[BaseException] = []

    def start(name: str, workers: int = 1) -> None:
        try:
            node = Served(dirs[name], db_url, name, tmp_path / f"{name}.log", workers, config, lease=30)
            processes.append(node)
            clients[name] = node_client(node.url)
        except BaseException as error:  # noqa: BLE001 - the test's thread raises it
            late.append(error)

    start("A")  # one after the other: the first one builds the schema and the accounts
    start("B")
    assert not late, late
    plans = _plans()
    started = time.monotonic()
    starter = threading.Thread(target=start, args=("C", 4))
    starter.start()  # C comes up (upgrade, bootstrap, recovery) while A and B are working
    try:
        _drive(plans, lambda: _serving(clients, late))
    finally:
        starter.join(timeout=150)
    elapsed = time.monotonic() - started
    nodes = {node.name: node for node in processes}
    _assert_each_job_ran_once_on_its_node(nodes, plans)
    assert _pending_jobs(db_url) == 0
    volumes, snapshots = _listing(clients["A"], clients["A"].headers["x-project"])
    for client in clients.values():
        client.close()
    assert not snapshots
    kept = {life.volume_id for life in plans if "delete" not in life.done}
    assert set(volumes) == kept
    assert {(v["status"], v["size"]) for v in volumes.values()} == {("available", 2)}
    _assert_files(dirs, plans, kept, _hosts(db_url))
    _assert_refused(nodes["C"], db_url, 1)  # a --workers 4 node's agent holds its data directory too
    for name, node in nodes.items():
        assert node.proc.poll() is None, f"node {name} died:\n{node.text()[-3000:]}"
        assert " ERROR " not in node.text() and "Traceback" not in node.text(), node.text()[-5000:]
    print(f"300 jobs on three nodes settled in {elapsed:.1f} s")


def _assert_each_job_ran_once_on_its_node(nodes: Mapping[str, Served], plans: list[Life]) -> None:
    """From the logs: 300 claims of 300 jobs, each at its first epoch, each by the node owning its resource."""
    claims = {name: node.claims() for name, node in nodes.items()}
    every = [claim for found in claims.values() for claim in found]
    repeated = {job for job, count in Counter(job for job, *_ in every).items() if count > 1}
    assert not repeated, [claim for claim in every if claim[0] in repeated]
    assert Counter(kind for _, kind, _, _ in every) == _EXPECTED_KINDS  # 300 in all
    assert {epoch for *_, epoch in every} == {1}  # nobody's claim was ever taken over
    owner_of = {life.volume_id: life.node for life in plans}  # volume or snapshot -> its node
    owner_of |= {life.snapshot_id: life.node for life in plans if life.snapshot_id}
    for name, found in claims.items():
        strays = [claim for claim in found if owner_of.get(claim[2]) != name]
        assert not strays, f"node {name} ran other nodes' jobs: {strays}"
    per_resource = Counter((kind, resource) for _, kind, resource, _ in every)
    assert set(per_resource.values()) == {1}  # one create, one extend... per volume: one job each


def _assert_files(dirs: Mapping[str, Path], plans: list[Life], kept: set[str | None], hosts: Mapping[str, str]) -> None:
    """Each kept volume's file in its own node's pool at the new size, nowhere else; deleted ones gone."""
    for life in plans:
        for name, directory in dirs.items():
            path = directory / "pools" / "file" / f"volume-{life.volume_id}"
            if life.volume_id in kept and name == life.node:
                assert path.stat().st_size == 2 * GiB, path
                assert hosts[str(life.volume_id)].startswith(f"{name}@"), hosts[str(life.volume_id)]
            else:
                assert not path.exists(), path
        if life.snapshot_id:
            assert not (dirs[life.node] / "pools" / "file" / ".snapshots" / f"snapshot-{life.snapshot_id}").exists()
    for name, directory in dirs.items():
        pool = directory / "pools" / "file"
        assert not list(pool.rglob(".tmp-*")), name
        assert len([p for p in pool.iterdir() if p.name.startswith("volume-")]) == _VOLUMES - _DELETED


def test_a_second_serve_on_the_same_data_dir_is_refused(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Served]
) -> None:
    directory, db_url = data_dir
    first = Served(directory, db_url, "A", tmp_path / "first.log")
    processes.append(first)
    for workers in (1, 4):
        _assert_refused(first, db_url, workers)
    # The refused processes changed nothing: the first one still serves and still runs jobs.
    assert first.proc.poll() is None
    client = node_client(first.url)
    project = client.headers["x-project"]
    response = client.post(f"/volume/v3/{project}/volumes", json={"volume": {"size": 1, "name": "after"}})
    assert response.status_code == 202, response.text
    volume_id = response.json()["volume"]["id"]
    deadline = time.monotonic() + 30
    while client.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]["status"] != "available":
        assert time.monotonic() < deadline, first.text()[-3000:]
        time.sleep(0.05)
    client.close()
    assert (directory / "pools" / "file" / f"volume-{volume_id}").stat().st_size == GiB
    assert [claim[1] for claim in first.claims()] == ["volume.create"]


def _assert_refused(holder: Served, db_url: str, workers: int) -> None:
    """``serve`` (with ``workers`` API workers) on ``holder``'s data directory says who holds it and exits 1."""
    second = subprocess.run(
        serve_command(holder.data_dir, _free_port(), workers),
        env=serve_env(db_url, holder.name),
        capture_output=True,
        text=True,
        timeout=60,
    )
    expected = f"another firebrick (pid {holder.proc.pid}) is already serving the data directory {holder.data_dir}"
    assert second.returncode == 1, second.stderr
    assert expected in second.stderr, second.stderr
    assert "Traceback" not in second.stderr, second.stderr

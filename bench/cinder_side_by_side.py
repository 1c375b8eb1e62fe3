"""Side by side with OpenStack Cinder: the same workload against firebrick and real Cinder 29.0.0.

One invocation installs Cinder (PyPI ``cinder==29.0.0`` and the pinned set in
``bench/cinder-requirements.txt``) into its own virtual environment
(``.bench-cinder-venv``, reused when present), starts it on loopback beside a
fresh ``firebrick serve``, and runs against both:

1. reads with N volumes in the database (default 10,000): ``GET …/volumes/{id}``
   and ``GET …/volumes/detail?limit=100`` with ``wrk`` at 1 connection and 32:
   requests/s, p50, p99;
2. the volume lifecycle: create a 1 GiB volume until ``available``, ``os-extend``
   to 2 GiB until ``GET`` shows the new size, delete until ``GET`` answers 404:
   p50/p99 of each over ``--ops`` sequential operations, then ops/s with 8
   concurrent clients;
3. both again with W API worker processes (``--workers``, default: one per CPU).
   Cinder's ``cinder-api`` forks ``osapi_volume_workers`` processes;
   ``firebrick serve`` has no workers option (one process), so its column says so.

Cinder runs as a user would run it here: ``cinder-api`` (``auth_strategy = noauth``:
the URL's project id is hex and the token is ``admin:<project id>``),
``cinder-scheduler`` and ``cinder-volume`` with the test driver shipped in the
package (``cinder.tests.fake_driver.FakeLoggingVolumeDriver``), SQLite, and
RabbitMQ at 127.0.0.1:5672 in a vhost of its own made for the run. That driver
stores nothing, while firebrick makes, grows and removes real sparse files: the
comparison favours Cinder.

Run it from the repository root (``wrk`` must be installed: ``apt-get install wrk``)::

    .venv/bin/python bench/cinder_side_by_side.py            # full run, about 4 minutes
    .venv/bin/python bench/cinder_side_by_side.py --quick    # smoke run, about 2 minutes
    .venv/bin/python bench/cinder_side_by_side.py --ops 100 --volumes 20000 --workers 4

It prints a table (step | firebrick | Cinder | ratio) and writes it with every
figure as JSON to ``bench/results/cinder-side-by-side-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import httpx
from api import (
    ADMIN_PASSWORD,
    RESULTS_DIR,
    latencies,
    lift_quota,
    log,
    login,
    require_wrk,
    run_wrk,
    running_server,
)

REPO = Path(__file__).resolve().parent.parent
CINDER_VERSION = "29.0.0"
CINDER_REQUIREMENTS = Path(__file__).resolve().parent / "cinder-requirements.txt"
FAKE_DRIVER = "cinder.tests.fake_driver.FakeLoggingVolumeDriver"
RABBIT = ("127.0.0.1", 5672)
SCHEDULER_INIT_WAIT = 1  # seconds cinder-scheduler waits at start for capability reports (Cinder's default: 60)

CONCURRENCIES = ((1, 1), (32, 2))  # (wrk connections, wrk threads), as bench/api.py
SHOW_ROTATION = 1000  # show cycles over this many seeded ids, not one hot row
WARMUP_LIFECYCLES = 3  # run first and discarded: they fill token, policy and page caches
POLL_SEQUENTIAL = 0.002  # seconds between GETs while one client waits for a status
POLL_CONCURRENT = 0.010  # the same with 8 clients, so their polls do not swamp the servers
BUSY_LOAD = 0.5  # 1-min load average at the start above which the run is flagged as disturbed
STEP_TIMEOUT = 120.0  # a create, extend or delete not done by then fails its step
FIREBRICK_ONE_PROCESS = "n/a: firebrick serves with one process"

T = TypeVar("T")
R = TypeVar("R")
STOP = threading.Event()  # set on Ctrl-C or an error, so client threads stop polling


@dataclass(frozen=True)
class Options:
    volumes: int
    ops: int
    duration: int
    workers: int
    clients: int
    quick: bool
    keep: bool
    cinder_venv: Path


@dataclass(frozen=True)
class Service:
    """One service under test, as the client sees it."""

    name: str
    root: str  # http://127.0.0.1:PORT
    prefix: str  # path of the project's volume API: /v3/<project> (Cinder), /volume/v3/<project> (firebrick)
    token: str
    pids: Callable[[], list[int]]  # the processes that serve it, for the idle check between loads
    logs: Callable[[], list[Path]]  # its log files, read for the exceptions behind a failure

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.root + self.prefix, headers={"X-Auth-Token": self.token}, timeout=STEP_TIMEOUT
        )


@dataclass(frozen=True)
class Figure:
    value: float | None  # None: no figure, the step failed
    note: str = ""  # what went wrong, with or without a figure (printed as a footnote)


Results = dict[str, Figure]  # metric key -> figure


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "req/s" and "ops/s": higher is better; "ms": lower is better


def read_metrics() -> list[Metric]:
    metrics = []
    for name, label in (("show", "GET /volumes/{id}"), ("detail", "GET /volumes/detail?limit=100")):
        for connections, _ in CONCURRENCIES:
            key = f"{name} c={connections}"
            metrics += [
                Metric(f"{key} rps", f"{label} c={connections}: req/s", "req/s"),
                Metric(f"{key} p50", f"{label} c={connections}: p50", "ms"),
                Metric(f"{key} p99", f"{label} c={connections}: p99", "ms"),
            ]
    return metrics


def lifecycle_metrics(ops: int, clients: int) -> list[Metric]:
    steps = (
        ("create", "create 1 GiB until available"),
        ("extend", "extend 1->2 GiB until new size"),
        ("delete", "delete until gone"),
    )
    metrics = []
    for step, label in steps:
        metrics += [
            Metric(f"{step} p50", f"{label}: p50 (n={ops})", "ms"),
            Metric(f"{step} p99", f"{label}: p99 (n={ops})", "ms"),
        ]
    metrics += [Metric(f"{step} ops/s", f"{label}, {clients} clients: ops/s", "ops/s") for step, label in steps]
    return metrics


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` together; a process that has gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_idle(pids: list[int], timeout: float = 60.0) -> None:
    """Wait until the serving processes are idle: what the last load left queued has been served."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        time.sleep(0.25)
        if cpu_seconds(pids) - before <= 0.01:
            return


@contextmanager
def process_group(command: list[str], output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own session; the whole group gets SIGTERM (then SIGKILL) on exit."""
    with output.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue


def wait_for(check: Callable[[], bool], poll: float, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if STOP.is_set():
            raise RuntimeError("stopped")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(poll)


# --- Cinder: install, configure, run ----------------------------------------------------------


def ensure_cinder_venv(venv: Path) -> Path:
    """Cinder in its own virtual environment; an existing one with the right version is reused."""
    python = venv / "bin" / "python"
    probe = (
        "import importlib.metadata as m, cinder.tests.fake_driver, fixtures; "
        f"raise SystemExit(m.version('cinder') != '{CINDER_VERSION}')"
    )
    if python.exists() and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
        log(f"reusing Cinder {CINDER_VERSION} in {venv}")
        return venv
    log(f"installing Cinder {CINDER_VERSION} into {venv} (pinned set: {CINDER_REQUIREMENTS.name}; about 30 s)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(CINDER_REQUIREMENTS)],
        check=True,
    )
    subprocess.run([python, "-c", probe], check=True, capture_output=True)
    return venv


def require_rabbitmq() -> None:
    try:
        socket.create_connection(RABBIT, timeout=2.0).close()
    except OSError:
        sys.exit(
            "RabbitMQ does not answer at 127.0.0.1:5672; Cinder needs it. Start it with\n"
            "  rabbitmq-server -detached        (or: service rabbitmq-server start)"
        )


@contextmanager
def rabbit_vhost(name: str) -> Iterator[str]:
    """A RabbitMQ vhost for this run only, so runs never share queues; deleted on exit.

    Without ``rabbitmqctl`` (or the right to use it) the default vhost is used; the
    run's unique host name and control exchange still keep its queues apart.
    """
    made = False
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
        made = True
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        log(f"no vhost of its own ({error}); Cinder uses the default vhost")
    try:
        yield name if made else ""
    finally:
        if made:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


def write_cinder_conf(directory: Path, venv: Path, vhost: str, run_id: str) -> Path:
    """The shared cinder.conf; each cinder-api start adds a file with its port and worker count."""
    for sub in ("state", "lock", "log"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    conf = directory / "cinder.conf"
    conf.write_text(
        textwrap.dedent(f"""\
            [DEFAULT]
            auth_strategy = noauth
            transport_url = rabbit://guest:guest@127.0.0.1:5672/{vhost}
            control_exchange = cinder-bench-{run_id}
            host = bench-{run_id}
            state_path = {directory / "state"}
            log_dir = {directory / "log"}
            api_paste_config = {venv / "etc/cinder/api-paste.ini"}
            resource_query_filters_file = {venv / "etc/cinder/resource_filters.json"}
            enabled_backends = fake
            osapi_volume_listen = 127.0.0.1
            scheduler_driver_init_wait_time = {SCHEDULER_INIT_WAIT}

            [database]
            connection = sqlite:///{directory / "cinder.sqlite"}

            [oslo_concurrency]
            lock_path = {directory / "lock"}

            [fake]
            volume_driver = {FAKE_DRIVER}
            volume_backend_name = fake
            """)
    )
    return conf


@dataclass(frozen=True)
class CinderBackend:
    """cinder-volume and cinder-scheduler, running on a synced database."""

    venv: Path
    directory: Path
    conf: Path
    database: Path
    pids: tuple[int, ...]


@contextmanager
def cinder_backend(venv: Path, directory: Path, vhost: str, run_id: str) -> Iterator[CinderBackend]:
    """cinder-manage db sync, then cinder-scheduler, then cinder-volume, each once it says it is up.

    The scheduler goes first. The other order (the scheduler asking the running volume
    service for its capabilities as it starts) left cinder-scheduler deaf to RPC in 2 of 4
    starts here: it logged the report it got while starting, then never answered a call.
    """
    conf = write_cinder_conf(directory, venv, vhost, run_id)
    bin_dir = venv / "bin"
    subprocess.run([bin_dir / "cinder-manage", "--config-file", conf, "db", "sync"], check=True, capture_output=True)
    logs = directory / "log"
    with ExitStack() as stack:
        scheduler = stack.enter_context(
            process_group([str(bin_dir / "cinder-scheduler"), "--config-file", str(conf)], directory / "scheduler.out")
        )
        started = "Starting cinder-scheduler node"
        wait_for(lambda: _says(scheduler, logs / "cinder-scheduler.log", started), 0.1, 90.0, "cinder-scheduler start")
        time.sleep(SCHEDULER_INIT_WAIT + 0.5)  # it waits that long for volume services it knows of: none yet
        volume = stack.enter_context(
            process_group([str(bin_dir / "cinder-volume"), "--config-file", str(conf)], directory / "volume.out")
        )
        # cinder-volume sends its capabilities to the scheduler as the last step of its start.
        ready = "Driver post RPC initialization completed"
        wait_for(lambda: _says(volume, logs / "cinder-volume.log", ready), 0.1, 90.0, "cinder-volume start")
        yield CinderBackend(venv, directory, conf, directory / "cinder.sqlite", (volume.pid, scheduler.pid))


def _says(process: subprocess.Popen[bytes], log_file: Path, text: str) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"{log_file.stem} exited with {process.returncode}:\n{tail(log_file)}")
    return log_file.exists() and text in log_file.read_text(errors="replace")


@contextmanager
def cinder_api(backend: CinderBackend, workers: int, project_id: str) -> Iterator[Service]:
    """cinder-api with ``workers`` processes on a free port, up once the scheduler knows the backend."""
    port = free_port()
    extra = backend.directory / f"api-{workers}.conf"
    extra.write_text(f"[DEFAULT]\nosapi_volume_listen_port = {port}\nosapi_volume_workers = {workers}\n")
    command = [str(backend.venv / "bin/cinder-api"), "--config-file", str(backend.conf), "--config-file", str(extra)]
    with process_group(command, backend.directory / "api.out") as api:
        service = Service(
            "Cinder",
            f"http://127.0.0.1:{port}",
            f"/v3/{project_id}",
            f"admin:{project_id}",
            lambda: [api.pid, *children(api.pid), *backend.pids],
            lambda: sorted((backend.directory / "log").glob("*.log")),
        )
        api_log = backend.directory / "log" / "cinder-api.log"
        wait_for(lambda: _answers(service, api), 0.1, 60.0, f"cinder-api start\n{tail(api_log)}")
        wait_for(lambda: _has_pool(service), 0.5, 150.0, "the scheduler learning the fake backend's capabilities")
        if len(children(api.pid)) != workers:
            raise RuntimeError(f"cinder-api runs {len(children(api.pid))} workers, not {workers}")
        yield service


def _answers(service: Service, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"cinder-api exited with {process.returncode}")
    try:
        httpx.get(service.root + "/", timeout=2.0)
        return True
    except httpx.TransportError:
        return False


def _has_pool(service: Service) -> bool:
    with service.client() as client:
        response = client.get("/scheduler-stats/get_pools")
        # A 500 is the API's RPC call to the scheduler timing out: not up yet.
        return response.status_code == 200 and bool(response.json()["pools"])


# --- seeding ----------------------------------------------------------------------------------


def create_template(service: Service) -> str:
    """One volume made through the API: its rows are the pattern every seeded volume copies."""
    with service.client() as client:
        body = {"volume": {"size": 1, "name": "bench-template", "metadata": {"bench": "template"}}}
        response = client.post("/volumes", json=body)
        response.raise_for_status()
        volume_id: str = response.json()["volume"]["id"]
        wait_for(lambda: _status(client, volume_id) == ("available", 1), POLL_SEQUENTIAL, STEP_TIMEOUT, "template")
    return volume_id


def _select(conn: sqlite3.Connection, sql: str, *args: str) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, args)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])


def seed_volumes(database: Path, template_id: str, count: int, name_column: str) -> list[str]:
    """Insert ``count`` copies of the template volume's row and its metadata rows, in one transaction.

    Works on both schemas: every column comes from the service's own row (its
    timestamps, booleans, type, host); only the id, the name (``name`` in
    firebrick, ``display_name`` in Cinder), the timestamps (one a second, older
    than the template, so pages sort like real history) and the metadata value change.
    """
    conn = sqlite3.connect(database, timeout=30.0, isolation_level=None)
    try:
        (template,) = _select(conn, "SELECT * FROM volumes WHERE id = ?", template_id)
        template_metadata = _select(conn, "SELECT * FROM volume_metadata WHERE volume_id = ?", template_id)
        newest = datetime.fromisoformat(template["created_at"])
        volumes, metadata, ids = [], [], []
        for index in range(count):
            stamp = (newest - timedelta(seconds=count - index)).strftime("%Y-%m-%d %H:%M:%S.%f")
            volume_id = str(uuid.uuid4())
            volumes.append(
                {
                    **template,
                    "id": volume_id,
                    name_column: f"bench-{index:05d}",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            for row in template_metadata:
                copy = {**row, "volume_id": volume_id, "value": str(index)}
                if "id" in copy:  # Cinder's autoincrement key
                    copy["id"] = None
                metadata.append(copy)
            ids.append(volume_id)
        conn.execute("BEGIN IMMEDIATE")
        _insert(conn, "volumes", volumes)
        _insert(conn, "volume_metadata", metadata)
        conn.execute("COMMIT")
        return ids
    finally:
        conn.close()


def count_volumes(service: Service) -> int:
    """The service's own count (``with_count``, 3.45), and a check that a full detail page answers."""
    with service.client() as client:
        response = client.get(
            "/volumes/detail",
            params={"limit": 100, "with_count": "true"},
            headers={"OpenStack-API-Version": "volume 3.45"},
        )
        response.raise_for_status()
        listing = response.json()
        if len(listing["volumes"]) != 100:
            raise RuntimeError(f"{service.name}: detail?limit=100 listed {len(listing['volumes'])} volumes")
        return int(listing["count"])


# --- workload 1: reads ------------------------------------------------------------------------


def show_script(directory: Path, service: Service, volume_ids: list[str]) -> Path:
    """A wrk Lua script that cycles show requests over ``volume_ids``."""
    ids = ",".join(f'"{v}"' for v in volume_ids)
    script = directory / f"show-{service.name.lower()}.lua"
    script.write_text(
        f"local ids = {{{ids}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #ids + 1\n"
        f'  return wrk.format("GET", "{service.prefix}/volumes/" .. ids[i])\n'
        "end\n"
    )
    return script


def measure_reads(wrk: str, service: Service, script: Path, seconds: int) -> Results:
    """wrk at c=1 and c=32 on show (cycling over seeded ids) and on a 100-volume detail page."""
    base = service.root + service.prefix
    targets: list[tuple[str, str, Path | None]] = [
        ("show", f"{base}/volumes", script),  # the script supplies each request's path
        ("detail", f"{base}/volumes/detail?limit=100", None),
    ]
    results: Results = {}
    for name, url, lua in targets:
        for connections, threads in CONCURRENCIES:
            key = f"{name} c={connections}"
            marks = log_marks(service)
            try:
                if connections == CONCURRENCIES[0][0]:
                    run_wrk(wrk, url, service.token, 4, 1, 1, lua)  # warm-up, discarded
                wait_idle(service.pids())
                log(f"{service.name}: wrk {name} c={connections} for {seconds} s")
                result = run_wrk(wrk, url, service.token, connections, threads, seconds, lua)
                if result.requests == 0:  # wrk counts only answers that arrive within its duration
                    raise RuntimeError(f"no answer arrived within {seconds} s")
            except (RuntimeError, subprocess.CalledProcessError) as error:
                note = failure_note(service, f"wrk {key}", describe(error), marks)
                results |= {f"{key} {q}": Figure(None, note) for q in ("rps", "p50", "p99")}
                continue
            results |= {
                f"{key} rps": Figure(result.rps),
                f"{key} p50": Figure(result.p50_ms),
                f"{key} p99": Figure(result.p99_ms),
            }
    wait_idle(service.pids())
    return results


# --- workload 2: create, extend, delete -------------------------------------------------------


def _status(client: httpx.Client, volume_id: str) -> tuple[str, int] | None:
    """(status, size) of a volume, or None once it is gone; an error status fails the step."""
    response = client.get(f"/volumes/{volume_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    volume = response.json()["volume"]
    if volume["status"].startswith("error"):
        raise RuntimeError(f"volume went to {volume['status']}")
    return volume["status"], int(volume["size"])


def create(client: httpx.Client, poll: float) -> tuple[str, float]:
    """A 1 GiB volume, timed from the POST until a GET shows it ``available``."""
    started = time.perf_counter()
    response = client.post("/volumes", json={"volume": {"size": 1}})
    response.raise_for_status()
    volume_id: str = response.json()["volume"]["id"]
    wait_for(lambda: _status(client, volume_id) == ("available", 1), poll, STEP_TIMEOUT, "create")
    return volume_id, time.perf_counter() - started


def extend(client: httpx.Client, volume_id: str, poll: float) -> float:
    """``os-extend`` to 2 GiB, timed until a GET shows size 2 and ``available`` again."""
    started = time.perf_counter()
    client.post(f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": 2}}).raise_for_status()
    wait_for(lambda: _status(client, volume_id) == ("available", 2), poll, STEP_TIMEOUT, "extend")
    return time.perf_counter() - started


def delete(client: httpx.Client, volume_id: str, poll: float) -> float:
    """DELETE, timed until a GET answers 404."""
    started = time.perf_counter()
    client.delete(f"/volumes/{volume_id}").raise_for_status()
    wait_for(lambda: _status(client, volume_id) is None, poll, STEP_TIMEOUT, "delete")
    return time.perf_counter() - started


def measure_lifecycle(service: Service, ops: int) -> Results:
    """``ops`` sequential rounds of create, extend, delete on one keep-alive connection.

    A round that fails is counted, told in a footnote, and the next round starts.
    """
    took: dict[str, list[float]] = {"create": [], "extend": [], "delete": []}
    failed: dict[str, list[str]] = {step: [] for step in took}
    rounds = WARMUP_LIFECYCLES + ops
    log(f"{service.name}: {ops} sequential create / extend / delete rounds")
    marks = log_marks(service)
    with service.client() as client:
        for round_index in range(rounds):
            step = "create"
            try:
                volume_id, created = create(client, POLL_SEQUENTIAL)
                step = "extend"
                extended = extend(client, volume_id, POLL_SEQUENTIAL)
                step = "delete"
                deleted = delete(client, volume_id, POLL_SEQUENTIAL)
            except (httpx.HTTPError, RuntimeError, TimeoutError) as error:
                failed[step].append(describe(error))
                continue
            if round_index >= WARMUP_LIFECYCLES:
                took["create"].append(created)
                took["extend"].append(extended)
                took["delete"].append(deleted)
    results: Results = {}
    for step, seconds in took.items():
        note = failures_note(service, f"sequential {step}", failed[step], rounds, marks)
        figures = latencies(seconds) if seconds else None
        results |= {
            f"{step} p50": Figure(figures.p50_ms if figures else None, note),
            f"{step} p99": Figure(figures.p99_ms if figures else None, note),
        }
    wait_idle(service.pids())
    return results


def concurrently(
    service: Service, clients: int, step: Callable[[httpx.Client, T], R], items: list[T]
) -> tuple[list[R], list[str], float]:
    """``step`` on every item from ``clients`` threads, one connection each.

    Returns what the steps that worked returned, a description of each that
    failed (the others go on: a failure is a figure too), and the wall time.
    """
    done: list[R] = []
    failed: list[str] = []

    def work(share: list[T]) -> None:
        with service.client() as client:
            for item in share:
                try:
                    done.append(step(client, item))
                except (httpx.HTTPError, RuntimeError, TimeoutError) as error:
                    if STOP.is_set():
                        return
                    failed.append(describe(error))

    started = time.perf_counter()
    pool = ThreadPoolExecutor(clients)
    try:
        for future in [pool.submit(work, items[i::clients]) for i in range(clients)]:
            future.result()
    except BaseException:
        STOP.set()  # Ctrl-C: the other clients stop polling at once
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        STOP.clear()
    return done, failed, time.perf_counter() - started


def measure_throughput(service: Service, ops: int, clients: int) -> Results:
    """``ops`` creates from ``clients`` concurrent clients, then extends of those, then deletes."""
    log(f"{service.name}: {ops} creates, extends and deletes from {clients} concurrent clients")

    def create_one(client: httpx.Client, _: int) -> str:
        return create(client, POLL_CONCURRENT)[0]

    def extend_one(client: httpx.Client, volume_id: str) -> str:
        extend(client, volume_id, POLL_CONCURRENT)
        return volume_id

    def delete_one(client: httpx.Client, volume_id: str) -> str:
        delete(client, volume_id, POLL_CONCURRENT)
        return volume_id

    results: Results = {}
    created: list[str] = []
    phases: list[tuple[str, Callable[[httpx.Client, Any], str], Callable[[], list[Any]]]] = [
        ("create", create_one, lambda: list(range(ops))),
        ("extend", extend_one, lambda: list(created)),
        ("delete", delete_one, lambda: list(created)),  # every volume made, extended or not
    ]
    for step, run, items in phases:
        marks, todo = log_marks(service), items()
        done, failed, seconds = concurrently(service, clients, run, todo)
        if step == "create":
            created = done
        note = failures_note(service, f"{step} from {clients} clients", failed, len(todo), marks)
        results[f"{step} ops/s"] = Figure(len(done) / seconds if done else None, note)
        wait_idle(service.pids())
    return results


# --- failures ---------------------------------------------------------------------------------

_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")
_LOGGED_EXCEPTION = re.compile(r"((?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception)\w*: .+)$")


def describe(error: BaseException) -> str:
    """A failure in a few words: the request and its answer, or the first line of the error."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code} on {error.request.method} {error.request.url.path}"
    return (str(error).splitlines() or [type(error).__name__])[0][:120]


def log_marks(service: Service) -> dict[Path, int]:
    """How long each of the service's log files is now: what is logged after this is new."""
    return {path: path.stat().st_size for path in service.logs() if path.exists()}


def logged_exceptions(service: Service, marks: dict[Path, int]) -> str:
    """The exceptions the service logged since ``marks``, the most frequent first."""
    counts: Counter[str] = Counter()
    for path in service.logs():
        with path.open("rb") as handle:
            handle.seek(marks.get(path, 0))
            for line in handle.read().decode(errors="replace").splitlines():
                if match := _LOGGED_EXCEPTION.search(line):
                    counts[match.group(1)[:120]] += 1
    return "; ".join(f"{text} (x{count})" for text, count in counts.most_common(2))


def failures_note(service: Service, what: str, failed: list[str], attempts: int, marks: dict[Path, int]) -> str:
    """A footnote for ``failed`` out of ``attempts`` tries ("" when none failed)."""
    if not failed:
        return ""
    summary = f"{len(failed)} of {attempts} failed ({Counter(failed).most_common(1)[0][0]})"
    return failure_note(service, what, summary, marks)


def failure_note(service: Service, what: str, summary: str, marks: dict[Path, int]) -> str:
    note = f"{service.name}, {what}: {summary}"
    if logged := logged_exceptions(service, marks):
        note += f"; its logs: {logged}"
    note = _IDS.sub("{id}", note)
    log(note)
    return note


# --- the report -------------------------------------------------------------------------------


def _figure(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def _ratio(firebrick: Figure | None, cinder: Figure | None, unit: str) -> str:
    """How many times better firebrick is: its rate over Cinder's, or Cinder's time over its time.

    None where either figure is missing or came with failures: a rate of what worked is no match.
    """
    if firebrick is None or cinder is None or firebrick.note or cinder.note:
        return ""
    if firebrick.value is None or cinder.value is None or min(firebrick.value, cinder.value) <= 0:
        return ""
    ratio = cinder.value / firebrick.value if unit == "ms" else firebrick.value / cinder.value
    return f"{ratio:,.1f}x" if ratio >= 1 else f"{ratio:.2f}x"


def table_rows(
    sections: list[tuple[str, list[Metric], Results | str, Results]],
) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """(step, firebrick, Cinder, ratio) rows, and the footnotes their cells point to.

    A section header is a row with only its step. A cell whose figure failed or
    came with failures shows ``[n]``; footnote n says what went wrong.
    """
    rows: list[tuple[str, str, str, str]] = []
    notes: dict[str, int] = {}

    def cell(figure: Figure | None, unit: str) -> str:
        if figure is None:
            return "not run"
        text = "failed" if figure.value is None else _figure(figure.value, unit)
        if figure.note:
            text += f" [{notes.setdefault(figure.note, len(notes) + 1)}]"
        return text

    for title, metrics, firebrick, cinder in sections:
        rows.append((title, "", "", ""))
        for metric in metrics:
            fb = None if isinstance(firebrick, str) else firebrick.get(metric.key)
            ci = cinder.get(metric.key)
            fb_cell = firebrick if isinstance(firebrick, str) else cell(fb, metric.unit)
            rows.append(("  " + metric.label, fb_cell, cell(ci, metric.unit), _ratio(fb, ci, metric.unit)))
    return rows, [f"[{number}] {note}" for note, number in notes.items()]


def render_table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("step", "firebrick", "Cinder", "ratio")
    measured = [row for row in rows if any(row[1:])]  # section titles run across the columns
    widths = [max(len(row[i]) for row in [header, *measured]) for i in range(4)]

    def line(values: tuple[str, str, str, str]) -> str:
        if not any(values[1:]):
            return values[0]
        cells = (v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True)))
        return " | ".join(cells).rstrip()

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(row) for row in rows)])


# --- the run ----------------------------------------------------------------------------------


def seed_both(
    services: dict[str, Service], databases: dict[str, Path], count: int
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """One template volume through each API, then ``count - 1`` row copies in each database."""
    ids, notes = {}, {}
    for name, service in services.items():
        template = create_template(service)
        started = time.perf_counter()
        seeded = seed_volumes(databases[name], template, count - 1, "name" if name == "firebrick" else "display_name")
        seconds = time.perf_counter() - started
        in_api = count_volumes(service)
        notes[name] = f"{name}: 1 volume through POST /volumes + {len(seeded):,} rows copied in {seconds:.2f} s"
        log(f"{notes[name]}; its API counts {in_api:,}")
        if in_api != count:
            raise RuntimeError(f"{name} counts {in_api} volumes, expected {count}")
        ids[name] = seeded[:: max(1, len(seeded) // SHOW_ROTATION)][:SHOW_ROTATION]
    return ids, notes


def firebrick_service(stack: ExitStack, workdir: Path) -> tuple[Service, Path]:
    # No guests are needed: the fake hypervisor keeps the process from preparing QEMU.
    os.environ["FIREBRICK_HYPERVISOR"] = "fake"
    (workdir / "firebrick").mkdir()
    server = stack.enter_context(running_server(workdir / "firebrick" / "data"))
    admin = login(server.url, "admin", ADMIN_PASSWORD, "admin")
    lift_quota(server.url, admin, admin.project_id)
    service = Service(
        "firebrick",
        server.url,
        f"/volume/v3/{admin.project_id}",
        admin.token,
        lambda: [server.process.pid],
        lambda: [server.log_path],
    )
    log(f"firebrick pid {server.process.pid} at {server.url}")
    return service, server.data_dir / "firebrick.db"


def lift_cinder_quota(service: Service, project_id: str) -> None:
    # Cinder's default quota is 10 volumes per project; the benchmark makes more than that.
    with service.client() as client:
        body = {"quota_set": {"volumes": -1, "gigabytes": -1}}
        client.put(f"/os-quota-sets/{project_id}", json=body).raise_for_status()


def run_workloads(wrk: str, service: Service, ids: list[str], workdir: Path, options: Options) -> Results:
    script = show_script(workdir, service, ids)
    return {
        **measure_reads(wrk, service, script, options.duration),
        **measure_lifecycle(service, options.ops),
        **measure_throughput(service, options.ops, options.clients),
    }


def benchmark(options: Options, wrk: str, workdir: Path) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    project_id = uuid.uuid4().hex  # noauth takes the project from the token; it must be hex
    venv = ensure_cinder_venv(options.cinder_venv)
    with ExitStack() as stack:
        firebrick, firebrick_db = firebrick_service(stack, workdir)
        vhost = stack.enter_context(rabbit_vhost(f"cinder-bench-{run_id}"))
        log(f"starting Cinder (RabbitMQ vhost {vhost or '/'})")
        backend = stack.enter_context(cinder_backend(venv, workdir / "cinder", vhost, run_id))
        with cinder_api(backend, 1, project_id) as cinder:
            log(f"Cinder API at {cinder.root} (1 worker), scheduler and volume up")
            lift_cinder_quota(cinder, project_id)
            services = {"firebrick": firebrick, "Cinder": cinder}
            ids, seed_notes = seed_both(
                services, {"firebrick": firebrick_db, "Cinder": backend.database}, options.volumes
            )
            one = {name: run_workloads(wrk, s, ids[name], workdir, options) for name, s in services.items()}
        many: Results = {}
        if options.workers > 1:
            with cinder_api(backend, options.workers, project_id) as cinder:
                log(f"Cinder API restarted with {options.workers} workers")
                many = run_workloads(wrk, cinder, ids["Cinder"], workdir, options)
    return {"one_process": one, "workers": many, "seeding": seed_notes, "rabbitmq_vhost": vhost or "/"}


def report_sections(
    results: dict[str, Any], options: Options
) -> list[tuple[str, list[Metric], Results | str, Results]]:
    one, many = results["one_process"], results["workers"]
    reads, cycle = read_metrics(), lifecycle_metrics(options.ops, options.clients)
    in_db = f"{options.volumes:,} volumes in the database"
    sections: list[tuple[str, list[Metric], Results | str, Results]] = [
        (f"(1) reads, {in_db}; one API process each", reads, one["firebrick"], one["Cinder"]),
        (f"(2) create / extend / delete, {in_db}; one API process each", cycle, one["firebrick"], one["Cinder"]),
    ]
    if options.workers > 1:
        w = options.workers
        sections += [
            (f"(3) reads as (1), {w} API worker processes each", reads, FIREBRICK_ONE_PROCESS, many),
            (f"(3) create / extend / delete as (2), {w} API worker processes each", cycle, FIREBRICK_ONE_PROCESS, many),
        ]
    return sections


def print_report(report: dict[str, Any], options: Options) -> None:
    machine = report["machine"]
    print(
        f"firebrick vs OpenStack Cinder {CINDER_VERSION}, side by side on one machine "
        f"({machine['cpus']} CPUs shared by both services, wrk and the client; 1-min load average "
        f"{machine['load_average_before']:.2f} before, {machine['load_average_after']:.2f} after)\n"
        "firebrick: one `firebrick serve` process, SQLite, raw sparse files in its file pool, fake hypervisor;\n"
        "           admin token from /identity/v3/auth/tokens.\n"
        f"Cinder:    cinder-api (osapi_volume_workers=1; {options.workers} in (3)), cinder-scheduler, cinder-volume,\n"
        f"           SQLite, RabbitMQ vhost {report['rabbitmq_vhost']}, noauth (X-Auth-Token admin:<hex project id>),\n"
        f"           volume driver {FAKE_DRIVER}.\n"
        "NOTE: Cinder's fake driver stores nothing (create, extend and delete touch no disk), while firebrick\n"
        "      creates, grows and removes real sparse files: that favours Cinder.\n"
        f"Seeding ({options.volumes:,} volumes each; copies of the template's volume and metadata rows inserted into\n"
        "the service's own SQLite database; no files or backend volumes behind them, which reads never touch):\n  "
        + "\n  ".join(report["seeding"].values())
        + f"\nReads: wrk --latency, {options.duration} s per line after a 1 s warm-up; show cycles over "
        f"{SHOW_ROTATION:,} seeded ids.\n"
        f"Create/extend/delete: {WARMUP_LIFECYCLES} warm-up rounds, then {options.ops} sequential rounds on one "
        f"connection, polled with GET every {POLL_SEQUENTIAL * 1000:.0f} ms;\n"
        f"then {options.ops} of each step from {options.clients} clients (one connection each), polled every "
        f"{POLL_CONCURRENT * 1000:.0f} ms.\n"
    )
    # Only the load before counts: the benchmark itself raises the load average while it runs.
    if machine["load_average_before"] > BUSY_LOAD:
        print(
            "WARNING: other work was running on this machine; figures are depressed by it, Cinder's\n"
            "         (four processes) and firebrick's (one) not necessarily alike.\n"
        )
    print(report["table"])
    if report["footnotes"]:
        print("\n" + "\n".join(report["footnotes"]))
    print(
        "\nratio: how many times better firebrick is: its req/s or ops/s over Cinder's, Cinder's latency over"
        "\n       firebrick's (below 1x: Cinder is better). Figures from one run: ratios mean more than digits."
    )


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--volumes", type=int, help="volumes in each database (default 10000; 1000 with --quick)")
    parser.add_argument("--ops", type=int, help="create/extend/delete rounds to time (default 50; 10 with --quick)")
    parser.add_argument("--duration", type=int, help="seconds per wrk line (default 10; 3 with --quick)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="API worker processes in (3); 1 skips (3)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for ops/s (default 8)")
    parser.add_argument("--cinder-venv", type=Path, default=REPO / ".bench-cinder-venv", help="Cinder's virtualenv")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)

    def pick(value: int | None, full: int, quick: int) -> int:
        return value if value is not None else (quick if args.quick else full)

    options = Options(
        pick(args.volumes, 10_000, 1_000),
        pick(args.ops, 50, 10),
        pick(args.duration, 10, 3),
        args.workers,
        args.clients,
        args.quick,
        args.keep,
        args.cinder_venv.resolve(),
    )
    if options.volumes < 101 or options.ops < 2 or options.duration < 1 or options.workers < 1 or options.clients < 1:
        parser.error("--volumes must be above 100, --ops at least 2, --duration, --workers and --clients at least 1")
    return options


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds through every finally: the services are stopped, the vhost deleted


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    wrk = require_wrk()
    require_rabbitmq()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="firebrick-bench-cinder-"))
    try:
        results = benchmark(options, wrk, workdir)
    except Exception:
        for log_file in sorted(workdir.rglob("*.log")) + [workdir / "firebrick" / "server.log"]:
            print(f"--- {log_file.relative_to(workdir)}\n{tail(log_file)}", file=sys.stderr)
        raise
    finally:
        if options.keep:
            log(f"logs and databases kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report: dict[str, Any] = {
        "benchmark": "cinder-side-by-side",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        },
        **results,
    }
    rows, footnotes = table_rows(report_sections(results, options))
    report["table"] = render_table(rows)
    report["footnotes"] = footnotes
    print_report(report, options)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"cinder-side-by-side-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, default=asdict) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

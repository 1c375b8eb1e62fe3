"""API benchmark: volume show, volume detail listing and create-until-available.

What it measures, against one ``firebrick serve`` process started as a user
would start it (a subprocess on a loopback port, fresh data directory):

* ``GET /`` — the floor: routing, middleware and JSON, no token, no database.
  It runs in the same invocation on the same server, so "show is X% of the
  floor" is an honest ratio on whatever machine this runs on.
* ``GET /volume/v3/{project}/volumes/{id}`` and
  ``GET /volume/v3/{project}/volumes/detail?limit=100`` with N volumes in the
  database (default 10,000), with ``wrk`` at 1 connection and at 32.
* create-until-available: sequential ``POST /volumes`` then polling ``GET``
  every 2 ms until the volume is ``available``; then delete-until-gone.
* The server's resident memory (VmRSS now, VmHWM peak) after all of that.

The N volumes are seeded straight into the SQLite database (bulk INSERTs that
copy the columns of one volume created through the API), so 10,000 take well
under a second. Their files are not created: the reads measured never touch
them.

Run it from the repository root (``wrk`` must be installed: ``apt-get install wrk``)::

    .venv/bin/python bench/api.py                  # full run, ~1.5 minutes
    .venv/bin/python bench/api.py --quick          # smoke run, ~20 seconds
    .venv/bin/python bench/api.py --volumes 2000 --duration 5

It prints a table (measurement | figure | target | met? | vs floor | server
CPU/req) and writes the same as JSON to ``bench/results/api-<timestamp>.json``.
See bench/README.md for how to read it.

``--workers 1,2`` is another mode (no ``wrk`` needed): for each count, one
``firebrick serve --workers N`` (fresh data directory; SQLite, or a fresh
PostgreSQL database with ``--database-url``), ``--volumes`` volumes (default
1,000) made through the API, then show and ``detail?limit=100`` at 32
connections for ``--duration`` seconds each with the Python load generator of
``bench/loadgen.py``. It prints req/s, p50, p99 per count and the issue's two
targets with PASS/MISS: show with 2 workers >= 1.7x show with 1, and detail's
p99 <= 4x its p50::

    .venv/bin/python bench/api.py --workers 1,2
    .venv/bin/python bench/api.py --workers 1,2 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from loadgen import run_load

ADMIN_PASSWORD = "bench-admin-secret"
DEMO_PASSWORD = "bench-demo-secret"
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Targets from the issue (2-core machine, one server process).
SHOW_RPS_TARGET = 2500.0
SHOW_P99_TARGET_MS = 25.0
DETAIL_RPS_TARGET = 500.0
CREATE_P50_TARGET_MS = 20.0
RSS_TARGET_MB = 150.0

CONCURRENCIES = ((1, 1), (32, 2))  # (connections, wrk threads)
POLL_SECONDS = 0.002
SHOW_ROTATION = 1000  # show cycles over this many ids, not one hot row
BUSY_LOAD = 0.5  # 1-min load average at the start above which the run is flagged as disturbed


@dataclass(frozen=True)
class Options:
    volumes: int
    duration: int
    creates: int
    quick: bool
    workers: tuple[int, ...] = ()  # --workers: the worker-scaling mode, one server per count
    database_url: str | None = None  # --database-url: a PostgreSQL server for that mode


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log_path: Path


@dataclass(frozen=True)
class Session:
    token: str
    project_id: str


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_responses: int  # non-2xx/3xx answers plus socket errors: any makes the run invalid
    server_cpu_ms: float = 0.0  # server process CPU time per request (user + system)


@dataclass(frozen=True)
class Latencies:
    p50_ms: float
    p99_ms: float
    samples: int


@dataclass(frozen=True)
class Row:
    measurement: str
    figure: str
    target: str = ""
    met: bool | None = None
    vs_floor: str = ""
    cpu_per_request: str = ""


def log(message: str) -> None:
    # Progress goes to stderr so stdout holds only the table.
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    data_dir: Path,
    config: Path | None = None,
    workers: int | None = None,
    env: Mapping[str, str] | None = None,
    launcher: Sequence[str] = ("-m", "firebrick"),
) -> Iterator[Server]:
    """``python -m firebrick serve`` (with ``--config`` and ``--workers``, if given, and ``env`` added to
    the environment) as a subprocess; stopped with SIGTERM (then SIGKILL) on exit. ``launcher``: what
    runs ``firebrick`` (``bench/sampler.py REPORT`` profiles it)."""
    port = _free_port()
    env = {
        **os.environ,
        "FIREBRICK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "FIREBRICK_DEMO_PASSWORD": DEMO_PASSWORD,
        **(env or {}),
    }
    log_path = data_dir.parent / "server.log"
    command = [sys.executable, *launcher, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--config", str(config)] if config is not None else []
    command += ["--workers", str(workers)] if workers is not None else []
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", data_dir, log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"firebrick exited with {server.process.returncode}:\n{_tail(server.log_path)}")
        try:
            if httpx.get(f"{server.url}/", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"firebrick did not answer GET / within {timeout:.0f} s:\n{_tail(server.log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def login(url: str, user: str, password: str, project: str) -> Session:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    response = httpx.post(f"{url}/identity/v3/auth/tokens", json=body)
    response.raise_for_status()
    return Session(response.headers["x-subject-token"], response.json()["token"]["project"]["id"])


def volume_client(url: str, session: Session) -> httpx.Client:
    """Keep-alive client rooted at the project's volume API."""
    return httpx.Client(
        base_url=f"{url}/volume/v3/{session.project_id}", headers={"X-Auth-Token": session.token}, timeout=30.0
    )


def lift_quota(url: str, admin: Session, project_id: str) -> None:
    # Cinder's default quota is 10 volumes; the seeded project holds thousands.
    with volume_client(url, admin) as client:
        response = client.put(f"/os-quota-sets/{project_id}", json={"quota_set": {"volumes": -1, "gigabytes": -1}})
        response.raise_for_status()


# --- seeding ----------------------------------------------------------------------------------


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(POLL_SECONDS)


def _is_available(client: httpx.Client, volume_id: str) -> bool:
    status = client.get(f"/volumes/{volume_id}").json()["volume"]["status"]
    if status == "error":
        raise RuntimeError(f"volume {volume_id} went to error")
    return bool(status == "available")


def _is_gone(client: httpx.Client, volume_id: str) -> bool:
    return client.get(f"/volumes/{volume_id}").status_code == 404


def create_template(client: httpx.Client) -> str:
    """One volume made through the API: its row is the pattern every seeded row copies."""
    response = client.post(
        "/volumes", json={"volume": {"size": 1, "name": "bench-template", "metadata": {"bench": "template"}}}
    )
    response.raise_for_status()
    volume_id: str = response.json()["volume"]["id"]
    wait_for(partial(_is_available, client, volume_id))
    return volume_id


def seed_volumes(database: Path, template_id: str, count: int) -> list[str]:
    """Insert ``count`` copies of the template row (new id, name, created_at, one metadata key) in one transaction.

    Column names and value encodings (timestamps, booleans) come from the
    template row itself, so the seeded rows are what the service would write.
    """
    conn = sqlite3.connect(database, timeout=30.0, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        cursor = conn.execute("SELECT * FROM volumes WHERE id = ?", (template_id,))
        columns = [d[0] for d in cursor.description]
        template = dict(zip(columns, cursor.fetchone(), strict=True))
        newest = datetime.fromisoformat(template["created_at"])
        rows, metadata, ids = [], [], []
        for index in range(count):
            # One volume a second, all older than the template, so pages are sorted like real history.
            created = newest - timedelta(seconds=count - index)
            stamp = created.strftime("%Y-%m-%d %H:%M:%S.%f")
            volume_id = str(uuid.uuid4())
            row = {**template, "id": volume_id, "name": f"bench-{index:05d}", "created_at": stamp, "updated_at": stamp}
            rows.append(tuple(row[c] for c in columns))
            metadata.append((volume_id, "bench-index", str(index)))
            ids.append(volume_id)
        placeholders = ", ".join("?" for _ in columns)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO volumes ({', '.join(columns)}) VALUES ({placeholders})", rows)
        conn.executemany("INSERT INTO volume_metadata (volume_id, key, value) VALUES (?, ?, ?)", metadata)
        conn.execute("COMMIT")
        return ids
    finally:
        conn.close()


def check_reads(client: httpx.Client, volume_id: str, page_size: int) -> None:
    """A show and a full detail page answer, before wrk hammers them."""
    client.get(f"/volumes/{volume_id}").raise_for_status()
    listed = len(client.get("/volumes/detail", params={"limit": 100}).json()["volumes"])
    if listed != page_size:
        raise RuntimeError(f"detail?limit=100 listed {listed} volumes, expected {page_size}")


def count_through_api(client: httpx.Client) -> int:
    response = client.get(
        "/volumes/detail", params={"limit": 1, "with_count": "true"}, headers={"OpenStack-API-Version": "volume 3.45"}
    )
    response.raise_for_status()
    return int(response.json()["count"])


# --- wrk --------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("wrk is not installed; install it with:  sudo apt-get install -y wrk   (Debian/Ubuntu)")
    return path


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unrecognised wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Requests/sec, the 50% and 99% latency lines, and any bad answers, from ``wrk --latency`` output."""

    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return match.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(int(g) for g in sockets.groups()) if sockets else 0)
    return WrkResult(
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_to_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_to_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        bad_responses=bad,
    )


def rotation_script(directory: Path, project_id: str, volume_ids: list[str]) -> Path:
    """A wrk Lua script that cycles show requests over ``volume_ids``."""
    ids = ",".join(f'"{v}"' for v in volume_ids)
    script = directory / "show.lua"
    script.write_text(
        f"local ids = {{{ids}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #ids + 1\n"
        f'  return wrk.format("GET", "/volume/v3/{project_id}/volumes/" .. ids[i])\n'
        "end\n"
    )
    return script


def run_wrk(
    wrk: str, url: str, token: str, connections: int, threads: int, seconds: int, script: Path | None
) -> WrkResult:
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"X-Auth-Token: {token}",
    ]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    result = parse_wrk(output)
    if result.bad_responses:
        raise RuntimeError(
            f"{result.bad_responses} failed requests against {url}; the figures would be meaningless:\n{output}"
        )
    return result


# --- create / delete --------------------------------------------------------------------------


def latencies(seconds: list[float]) -> Latencies:
    ms = sorted(s * 1000.0 for s in seconds)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
    return Latencies(statistics.median(ms), p99, len(ms))


def create_until_available(client: httpx.Client, count: int) -> tuple[list[float], list[str]]:
    """Sequential creates; each timed from the POST until a GET shows ``available``."""
    took, ids = [], []
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/volumes", json={"volume": {"size": 1}})
        response.raise_for_status()
        volume_id: str = response.json()["volume"]["id"]
        wait_for(partial(_is_available, client, volume_id))
        took.append(time.perf_counter() - started)
        ids.append(volume_id)
    return took, ids


def delete_until_gone(client: httpx.Client, volume_ids: list[str]) -> list[float]:
    """Sequential deletes; each timed from the DELETE until a GET answers 404."""
    took = []
    for volume_id in volume_ids:
        started = time.perf_counter()
        client.delete(f"/volumes/{volume_id}").raise_for_status()
        wait_for(partial(_is_gone, client, volume_id))
        took.append(time.perf_counter() - started)
    return took


# --- the server process: CPU and memory -------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used, all its threads together."""
    # Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident) of ``pid``, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024.0  # kB
    return fields


# --- the report -------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _share(ratio: float) -> str:
    return f"{ratio:.0%} of floor" if ratio >= 0.1 else f"{ratio:.1%} of floor"


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}x floor"


def load_rows(name: str, connections: int, result: WrkResult, floor: WrkResult) -> list[Row]:
    label = f"{name} c={connections}"
    rps_target = p99_target = ""
    rps_met: bool | None = None
    p99_met: bool | None = None
    if name == "show" and connections == 32:
        rps_target, rps_met = f">= {SHOW_RPS_TARGET:,.0f}", result.rps >= SHOW_RPS_TARGET
        p99_target, p99_met = f"<= {SHOW_P99_TARGET_MS:.0f} ms", result.p99_ms <= SHOW_P99_TARGET_MS
    if name == "detail?limit=100" and connections == 32:
        rps_target, rps_met = f">= {DETAIL_RPS_TARGET:,.0f}", result.rps >= DETAIL_RPS_TARGET
    is_floor = result is floor
    rps_vs = "" if is_floor else _share(result.rps / floor.rps)
    p50_vs = "" if is_floor else _ratio(result.p50_ms, floor.p50_ms)
    p99_vs = "" if is_floor else _ratio(result.p99_ms, floor.p99_ms)
    cpu = f"{result.server_cpu_ms:.2f} ms"
    return [
        Row(
            f"{label} req/s",
            f"{result.rps:,.0f}",
            rps_target or ("reference" if is_floor else ""),
            rps_met,
            rps_vs,
            cpu,
        ),
        Row(f"{label} p50", _ms(result.p50_ms), "", None, p50_vs),
        Row(f"{label} p99", _ms(result.p99_ms), p99_target, p99_met, p99_vs),
    ]


def summary_rows(
    loads: dict[tuple[str, int], WrkResult], create: Latencies, delete: Latencies, memory: dict[str, float]
) -> list[Row]:
    rows: list[Row] = []
    for (name, connections), result in loads.items():
        rows += load_rows(name, connections, result, loads[("GET / floor", connections)])
    rows += [
        Row(
            f"create-until-available p50 (n={create.samples})",
            _ms(create.p50_ms),
            f"<= {CREATE_P50_TARGET_MS:.0f} ms",
            create.p50_ms <= CREATE_P50_TARGET_MS,
        ),
        Row(f"create-until-available p99 (n={create.samples})", _ms(create.p99_ms)),
        Row(f"delete-until-gone p50 (n={delete.samples})", _ms(delete.p50_ms)),
        Row("server RSS after load (VmRSS)", f"{memory['VmRSS']:.0f} MB"),
        Row(
            "server peak RSS (VmHWM)",
            f"{memory['VmHWM']:.0f} MB",
            f"<= {RSS_TARGET_MB:.0f} MB",
            memory["VmHWM"] <= RSS_TARGET_MB,
        ),
    ]
    return rows


def render_table(rows: list[Row]) -> str:
    header = ("measurement", "figure", "target", "met?", "vs floor", "server CPU/req")
    marks = {True: "yes", False: "NO", None: ""}
    cells = [(r.measurement, r.figure, r.target, marks[r.met], r.vs_floor, r.cpu_per_request) for r in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        # Figures are right-aligned so their digits line up.
        padded = (
            v.rjust(w) if i in (1, 5) else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )
        return " | ".join(padded).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(c) for c in cells)])


def write_json(report: dict[str, Any], name: str = "api") -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


# --- the run ----------------------------------------------------------------------------------


def settle(url: str, timeout: float = 60.0) -> None:
    """Wait until the server has drained what the last wrk run left queued.

    wrk stops sending when its time is up, but the server still works through
    the requests already read (32 slow detail pages take seconds); measuring
    the next thing before that would charge it for the previous one.
    """
    deadline = time.monotonic() + timeout
    quick_in_a_row = 0
    with httpx.Client(timeout=timeout) as client:
        while quick_in_a_row < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(f"{url}/").raise_for_status()
            quick_in_a_row = quick_in_a_row + 1 if time.perf_counter() - started < 0.005 else 0
            time.sleep(0.05)


def measure_loads(
    wrk: str, server: Server, session: Session, show_script: Path, seconds: int
) -> dict[tuple[str, int], WrkResult]:
    project_url = f"{server.url}/volume/v3/{session.project_id}"
    targets: list[tuple[str, str, Path | None]] = [
        ("GET / floor", f"{server.url}/", None),
        ("show", f"{project_url}/volumes", show_script),  # the script supplies each request's path
        ("detail?limit=100", f"{project_url}/volumes/detail?limit=100", None),
    ]
    results: dict[tuple[str, int], WrkResult] = {}
    pid = server.process.pid
    for name, url, script in targets:
        # A short warm-up, discarded: first requests fill the role cache, policy and SQLite page caches.
        run_wrk(wrk, url, session.token, 4, 1, 1, script)
        for connections, threads in CONCURRENCIES:
            settle(server.url)
            log(f"wrk {name} c={connections} for {seconds} s")
            cpu_before = cpu_seconds(pid)
            result = run_wrk(wrk, url, session.token, connections, threads, seconds, script)
            # Read at once: handlers block the event loop, so at most one request is half done;
            # those still queued have cost nothing yet (settle() drains them before the next run).
            cpu_ms = 1000.0 * (cpu_seconds(pid) - cpu_before) / result.requests
            results[(name, connections)] = replace(result, server_cpu_ms=cpu_ms)
    return results


def benchmark(options: Options, wrk: str, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    with running_server(data_dir) as server:
        log(f"server pid {server.process.pid} at {server.url}")
        demo = login(server.url, "demo", DEMO_PASSWORD, "demo")
        lift_quota(server.url, login(server.url, "admin", ADMIN_PASSWORD, "admin"), demo.project_id)
        with volume_client(server.url, demo) as client:
            template = create_template(client)
            started = time.perf_counter()
            seeded = seed_volumes(data_dir / "firebrick.db", template, options.volumes - 1)
            seed_seconds = time.perf_counter() - started
            in_db = count_through_api(client)
            log(
                f"seeded {len(seeded)} volume rows directly into SQLite in {seed_seconds:.2f} s; the API counts {in_db}"
            )
            check_reads(client, seeded[len(seeded) // 2], min(100, in_db))
            show_script = rotation_script(workdir, demo.project_id, seeded[:: max(1, len(seeded) // SHOW_ROTATION)])
            loads = measure_loads(wrk, server, demo, show_script, options.duration)
            settle(server.url)
            log(f"{options.creates} sequential creates, then deletes")
            create_took, created = create_until_available(client, options.creates)
            delete_took = delete_until_gone(client, created)
        memory = memory_mb(server.process.pid)
    create, delete = latencies(create_took), latencies(delete_took)
    rows = summary_rows(loads, create, delete, memory)
    return {
        "volumes_in_database": in_db,
        "seed_seconds": round(seed_seconds, 3),
        "loads": {f"{name} c={c}": asdict(r) for (name, c), r in loads.items()},
        "create_until_available_ms": asdict(create),
        "delete_until_gone_ms": asdict(delete),
        "memory_mb": memory,
        "rows": [asdict(r) for r in rows],
        "table": render_table(rows),
    }


def _worker_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected worker counts such as 1,2, not {text!r}") from None
    if min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts must be at least 1")
    return counts


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--volumes", type=int, help="volumes in the database (default 10000; 1000 with --workers or --quick)"
    )
    parser.add_argument("--duration", type=int, help="seconds per measurement (default 10; 2 with --quick)")
    parser.add_argument("--creates", type=int, help="sequential creates to time (default 50; 10 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--workers",
        type=_worker_counts,
        default=(),
        help="worker-scaling mode: one `serve --workers N` for each N of this list (e.g. 1,2); no wrk needed",
    )
    parser.add_argument(
        "--database-url",
        help="with --workers: a PostgreSQL URL (postgresql+psycopg://user@host:port/db); each server gets a "
        "fresh database made there and dropped afterwards (default: SQLite in the server's data directory)",
    )
    args = parser.parse_args(argv)

    def pick(value: int | None, full: int, quick: int) -> int:
        return value if value is not None else (quick if args.quick else full)

    options = Options(
        pick(args.volumes, 1_000 if args.workers else 10_000, 1_000),
        pick(args.duration, 10, 2),
        pick(args.creates, 50, 10),
        args.quick,
        args.workers,
        args.database_url,
    )
    if options.volumes < 2 or options.duration < 1 or options.creates < 1:
        parser.error("--volumes must be at least 2, --duration and --creates at least 1")
    if options.database_url and not options.workers:
        parser.error("--database-url goes with --workers (the default run seeds SQLite directly)")
    return options


def print_report(report: dict[str, Any], options: Options) -> None:
    load_before, load_after = report["machine"]["load_average_before"], report["machine"]["load_average_after"]
    print(
        f"firebrick API benchmark: {report['volumes_in_database']:,} volumes in SQLite "
        f"(rows seeded directly in {report['seed_seconds']:.2f} s; no volume files, reads never open them)\n"
        f"wrk {options.duration} s per line; one server process; {report['machine']['cpus']} CPUs shared with wrk; "
        f"1-min load average {load_before:.2f} before, {load_after:.2f} after\n"
    )
    # Only the load before counts: the benchmark itself raises the load average while it runs.
    if load_before > BUSY_LOAD:
        print(
            "WARNING: other work was running on this machine; req/s and tails are depressed by it,\n"
            "         server CPU/req much less so.\n"
        )
    print(report["table"])
    print(
        "\nvs floor:       req/s as a share of GET / (no auth, no DB) on the same server at the same"
        "\n                concurrency; latencies as a multiple of the floor's."
        "\nserver CPU/req: CPU the server process spent per request (/proc/<pid>/stat); 1000 / it is"
        "\n                what one core could serve with nothing else running."
        "\nCinder 29 on these machines (issue figures, not measured here): show 38-57 req/s,"
        "\n                detail 9-12 req/s, create 0.27 s."
    )


# --- worker scaling: --workers 1,2 ------------------------------------------------------------
#
# One `firebrick serve --workers N` per N (fresh data directory, fresh database), the same
# volumes made through the API, then show and detail?limit=100 at c=32 for a fixed duration
# each, with the Python load generator (bench/loadgen.py). The targets are ratios within this
# one invocation: show with 2 workers over show with 1, and detail's p99 over its own p50.

SCALING_CONNECTIONS = 32
SCALING_TARGET = 1.7  # show req/s at c=32: 2 workers over 1 worker
TAIL_TARGET = 4.0  # detail?limit=100 at c=32: p99 over p50, for every worker count
WARMUP_SECONDS = 2  # per load and server, discarded: every worker fills its caches
CREATE_PARALLEL = 8  # concurrent POST /volumes while making the volumes


@dataclass(frozen=True)
class Step:
    workers: int
    load: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    server_cpu_ms: float  # CPU of the serve process and all its children, per request
    client_cores: float  # the load generator's CPU time over the step's wall time


@contextmanager
def fresh_database(url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on ``url``'s server (dropped on exit); ``None`` for SQLite."""
    if url is None:
        yield None
        return
    import sqlalchemy as sa  # only this mode needs it (it comes with firebrick)

    name = f"fb_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the API workers and the agent of ``serve --workers``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in _process_tree(pid):
        try:
            total += cpu_seconds(member)
        except OSError:
            pass  # exited between the listing and the read
    return total


def create_volumes(client: httpx.Client, count: int) -> list[str]:
    """``count`` 1 GiB volumes (one metadata key each) through ``POST /volumes``, until all are available."""

    def create(index: int) -> str:
        body = {"volume": {"size": 1, "name": f"bench-{index:05d}", "metadata": {"bench-index": str(index)}}}
        response = client.post("/volumes", json=body)
        response.raise_for_status()
        volume_id: str = response.json()["volume"]["id"]
        return volume_id

    with ThreadPoolExecutor(CREATE_PARALLEL) as pool:
        ids = list(pool.map(create, range(count)))
    for volume_id in ids:
        wait_for(partial(_is_available, client, volume_id), timeout=300.0)
    return ids


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def measure_step(server: Server, session: Session, workers: int, load: str, paths: list[str], seconds: int) -> Step:
    port = _port(server.url)
    run_load(port, paths, session.token, SCALING_CONNECTIONS, WARMUP_SECONDS)
    settle(server.url)
    log(f"{workers} worker(s): {load} c={SCALING_CONNECTIONS} for {seconds} s")
    cpu_before = tree_cpu_seconds(server.process.pid)
    result = run_load(port, paths, session.token, SCALING_CONNECTIONS, seconds)
    # The load generator waits for every answer, so nothing is left queued in the server.
    server_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return Step(
        workers,
        load,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.requests,
        1000.0 * server_cpu / result.requests,
        result.client_cpu_seconds / result.seconds,
    )


def scaling_run(options: Options, workers: int, workdir: Path) -> tuple[list[Step], float]:
    """One server with ``workers`` API workers: make the volumes, then measure show and detail."""
    data_dir = workdir / f"workers-{workers}" / "data"
    data_dir.parent.mkdir(parents=True)
    with fresh_database(options.database_url) as database_url:
        env = {"FIREBRICK_HYPERVISOR": "fake"}
        env |= {"FIREBRICK_DATABASE_URL": database_url} if database_url else {}
        with running_server(data_dir, workers=workers, env=env) as server:
            log(f"serve --workers {workers}: pid {server.process.pid} at {server.url}")
            demo = login(server.url, "demo", DEMO_PASSWORD, "demo")
            lift_quota(server.url, login(server.url, "admin", ADMIN_PASSWORD, "admin"), demo.project_id)
            with volume_client(server.url, demo) as client:
                started = time.perf_counter()
                ids = create_volumes(client, options.volumes)
                made_in = time.perf_counter() - started
                log(f"made {len(ids)} volumes through the API in {made_in:.1f} s")
                check_reads(client, ids[0], min(100, count_through_api(client)))
            base = f"/volume/v3/{demo.project_id}/volumes"
            loads = {"show": [f"{base}/{v}" for v in ids], "detail?limit=100": [f"{base}/detail?limit=100"]}
            steps = [measure_step(server, demo, workers, n, p, options.duration) for n, p in loads.items()]
    return steps, made_in


def _verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def scaling_verdicts(steps: list[Step]) -> list[str]:
    """The issue's two targets, as lines: each figure, its target and PASS/MISS."""
    show = {s.workers: s for s in steps if s.load == "show"}
    lines = []
    first = min(show)
    for workers in sorted(show)[1:]:
        ratio = show[workers].rps / show[first].rps
        line = f"show c=32 req/s, {workers} workers / {first}: {ratio:.2f}x"
        if (first, workers) == (1, 2):  # the target; other pairs are shown without one
            line += f"  target >= {SCALING_TARGET}x  {_verdict(ratio >= SCALING_TARGET)}"
        lines.append(line)
    for step in (s for s in steps if s.load == "detail?limit=100"):
        ratio = step.p99_ms / step.p50_ms
        lines.append(
            f"detail?limit=100 c=32 p99 / p50, {step.workers} worker(s): {ratio:.2f}x  "
            f"target <= {TAIL_TARGET:.0f}x  {_verdict(ratio <= TAIL_TARGET)}"
        )
    return lines


def scaling_table(steps: list[Step]) -> str:
    header = ("workers", "load (c=32)", "req/s", "p50", "p99", "p99/p50", "server CPU/req", "load gen CPU")
    cells = [
        (
            str(s.workers),
            s.load,
            f"{s.rps:,.0f}",
            _ms(s.p50_ms),
            _ms(s.p99_ms),
            f"{s.p99_ms / s.p50_ms:.2f}x",
            f"{s.server_cpu_ms:.2f} ms",
            f"{s.client_cores:.2f} cores",
        )
        for s in steps
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        cells = enumerate(zip(values, widths, strict=True))
        return " | ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in cells)

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(c) for c in cells)])


def scaling_main(options: Options) -> int:
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="firebrick-bench-workers-"))
    steps: list[Step] = []
    made_in: dict[int, float] = {}
    try:
        for workers in options.workers:
            run_steps, made_in[workers] = scaling_run(options, workers, workdir)
            steps += run_steps
    except Exception:
        for log_path in workdir.glob("*/server.log"):
            print(f"--- {log_path}\n{_tail(log_path)}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    database = "PostgreSQL (a fresh database per server)" if options.database_url else "SQLite"
    table, verdicts = scaling_table(steps), scaling_verdicts(steps)
    print(
        f"firebrick API worker scaling: serve --workers {','.join(map(str, options.workers))}, {database}, "
        f"{options.volumes:,} volumes made through the API per server, fake hypervisor\n"
        f"{SCALING_CONNECTIONS} keep-alive connections, {options.duration} s per line after a {WARMUP_SECONDS} s "
        f"warm-up; show cycles over all the volumes\n"
        f"The load generator (Python, this process) shares the {os.cpu_count()} CPUs with the server: its share is "
        f"the last column.\n1-min load average {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after.\n"
    )
    if load_before > BUSY_LOAD:
        print("WARNING: other work was running on this machine; req/s and tails are depressed by it.\n")
    print(table + "\n\n" + "\n".join(verdicts))
    print(
        "\nserver CPU/req: CPU of the serve process and all its children (API workers, agent) per request."
        "\nWith 1 worker, one process serves the API and runs the jobs; with N > 1, N API workers and one agent."
    )
    report = {
        "benchmark": "api-workers",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "options": asdict(options) | {"database_url": bool(options.database_url)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_before": load_before},
        "volumes_made_seconds": made_in,
        "steps": [asdict(s) for s in steps],
        "verdicts": verdicts,
        "table": table,
    }
    print(f"\nJSON: {write_json(report, 'api-workers')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    if options.workers:
        return scaling_main(options)
    wrk = require_wrk()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="firebrick-bench-"))
    try:
        results = benchmark(options, wrk, workdir)
    except Exception:
        print(_tail(workdir / "server.log"), file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "api",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "options": asdict(options),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        },
        **results,
    }
    print_report(report, options)
    print(f"\nJSON: {write_json(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

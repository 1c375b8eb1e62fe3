"""Extend benchmark: a detached ``os-extend`` until the new size is visible through ``GET``.

What it measures, against one ``firebrick serve`` process started as a user would
start it (a subprocess on a loopback port, fresh data directory, the default raw
file pool):

* extend-until-visible: ``POST /volumes/{id}/action {"os-extend": {"new_size": 2}}``
  on an ``available`` 1 GiB volume, then ``GET /volumes/{id}`` every millisecond
  until it shows ``available`` with size 2. One fresh volume per operation, all
  made beforehand, one keep-alive connection, sequential.

And, interleaved with those (one of each after every extend, so all three share the
machine's moment), the two things such an extend cannot be faster than:

* ``GET /volumes/{id}``: one authenticated read of a volume (the request the
  client polls with), on the same connection;
* ``qemu-img resize -f raw`` of a 1 GiB sparse file to 2 GiB, run directly: the
  storage work itself, without firebrick (its files are raw and sparse too).

Run it from the repository root::

    .venv/bin/python bench/extend.py               # 100 extends (about 10 s)
    .venv/bin/python bench/extend.py --ops 500
    .venv/bin/python bench/extend.py --quick       # 20 extends, a smoke run

It prints a table (measurement | figure | target | met? | vs reference) and writes
the same as JSON to ``bench/results/extend-<timestamp>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    RESULTS_DIR,
    Latencies,
    cpu_seconds,
    latencies,
    lift_quota,
    log,
    login,
    running_server,
    volume_client,
)

GiB = 1024**3
EXTEND_P50_TARGET_MS = 15.0
CINDER_MS = "123-140 ms"  # the figure for real Cinder (a driver that stores nothing), not measured here
POLL_SECONDS = 0.001
WARMUP = 5  # extends run first and discarded: they fill the token, policy and page caches


def wait_until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(POLL_SECONDS)


def _shows(client: httpx.Client, volume_id: str, status: str, size: int) -> bool:
    volume = client.get(f"/volumes/{volume_id}").json()["volume"]
    if volume["status"] in ("error", "error_extending"):
        raise RuntimeError(f"volume {volume_id} went to {volume['status']}")
    return bool(volume["status"] == status and volume["size"] == size)


def make_volumes(client: httpx.Client, count: int) -> list[str]:
    """``count`` available 1 GiB volumes (made one after another, then waited for)."""
    ids = []
    for _ in range(count):
        response = client.post("/volumes", json={"volume": {"size": 1}})
        response.raise_for_status()
        ids.append(response.json()["volume"]["id"])
    for volume_id in ids:
        wait_until(lambda v=volume_id: _shows(client, v, "available", 1))
    return ids


@dataclass
class Samples:
    """Seconds per operation, and the server's CPU seconds spent during the extends."""

    extend: list[float] = field(default_factory=list)
    get: list[float] = field(default_factory=list)
    resize: list[float] = field(default_factory=list)
    server_cpu: float = 0.0


def extend_once(client: httpx.Client, volume_id: str) -> float:
    """One extend, timed from the POST until a GET shows the new size (and ``available`` again)."""
    started = time.perf_counter()
    response = client.post(f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": 2}})
    if response.status_code != 202:
        raise RuntimeError(f"os-extend answered {response.status_code}: {response.text}")
    wait_until(lambda: _shows(client, volume_id, "available", 2))
    return time.perf_counter() - started


def get_once(client: httpx.Client, volume_id: str) -> float:
    started = time.perf_counter()
    client.get(f"/volumes/{volume_id}").raise_for_status()
    return time.perf_counter() - started


def resize_once(qemu_img: str, path: Path) -> float:
    """``qemu-img resize`` of a fresh 1 GiB sparse raw file to 2 GiB, as firebrick's pool would do it."""
    with path.open("wb") as handle:
        handle.truncate(GiB)
    started = time.perf_counter()
    subprocess.run([qemu_img, "resize", "-q", "-f", "raw", str(path), str(2 * GiB)], check=True)
    took = time.perf_counter() - started
    path.unlink()
    return took


def measure(client: httpx.Client, pid: int, volume_ids: list[str], scratch: Path) -> Samples:
    """Rounds of: one extend, one GET, one plain resize, so the three share the machine's moment."""
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        sys.exit("qemu-img is not installed (apt-get install qemu-utils)")
    samples = Samples()
    for volume_id in volume_ids:
        cpu_before = cpu_seconds(pid)
        samples.extend.append(extend_once(client, volume_id))
        samples.server_cpu += cpu_seconds(pid) - cpu_before
        samples.get.append(get_once(client, volume_id))
        samples.resize.append(resize_once(qemu_img, scratch / "plain"))
    return samples


@dataclass(frozen=True)
class Row:
    measurement: str
    figure: str
    target: str = ""
    met: bool | None = None
    vs_reference: str = ""


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def rows(extend: Latencies, get: Latencies, resize: Latencies, server_cpu_ms: float) -> list[Row]:
    floor = get.p50_ms + resize.p50_ms
    return [
        Row(
            f"extend-until-visible p50 (n={extend.samples})",
            _ms(extend.p50_ms),
            f"<= {EXTEND_P50_TARGET_MS:.0f} ms",
            extend.p50_ms <= EXTEND_P50_TARGET_MS,
            f"{extend.p50_ms / floor:.1f}x GET + resize",
        ),
        Row(f"extend-until-visible p99 (n={extend.samples})", _ms(extend.p99_ms)),
        Row("server CPU per extend (polls included)", _ms(server_cpu_ms)),
        Row(f"GET /volumes/{{id}} p50 (n={get.samples})", _ms(get.p50_ms), "reference"),
        Row(f"GET /volumes/{{id}} p99 (n={get.samples})", _ms(get.p99_ms)),
        Row(f"qemu-img resize 1->2 GiB p50 (n={resize.samples})", _ms(resize.p50_ms), "reference"),
        Row(f"qemu-img resize 1->2 GiB p99 (n={resize.samples})", _ms(resize.p99_ms)),
    ]


def render_table(table: list[Row]) -> str:
    header = ("measurement", "figure", "target", "met?", "vs reference")
    marks = {True: "yes", False: "NO", None: ""}
    cells = [(r.measurement, r.figure, r.target, marks[r.met], r.vs_reference) for r in table]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        padded = (v.rjust(w) if i == 1 else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True)))
        return " | ".join(padded).rstrip()

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(c) for c in cells)])


def benchmark(ops: int, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    with running_server(data_dir) as server:
        log(f"server pid {server.process.pid} at {server.url}")
        demo = login(server.url, "demo", DEMO_PASSWORD, "demo")
        lift_quota(server.url, login(server.url, "admin", ADMIN_PASSWORD, "admin"), demo.project_id)
        with volume_client(server.url, demo) as client:
            log(f"making {ops + WARMUP} volumes")
            volume_ids = make_volumes(client, ops + WARMUP)
            scratch = workdir / "plain"
            scratch.mkdir()
            measure(client, server.process.pid, volume_ids[:WARMUP], scratch)
            log(f"{ops} rounds of: an extend until GET shows the new size, a GET, a plain qemu-img resize")
            samples = measure(client, server.process.pid, volume_ids[WARMUP:], scratch)
    extend, get, resize = latencies(samples.extend), latencies(samples.get), latencies(samples.resize)
    server_cpu_ms = 1000.0 * samples.server_cpu / ops
    table_rows = rows(extend, get, resize, server_cpu_ms)
    return {
        "extend_until_visible_ms": asdict(extend),
        "server_cpu_per_extend_ms": round(server_cpu_ms, 3),
        "get_volume_ms": asdict(get),
        "qemu_img_resize_ms": asdict(resize),
        "rows": [asdict(row) for row in table_rows],
        "table": render_table(table_rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ops", type=int, help="extends to time (default 100; 20 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    ops = args.ops if args.ops is not None else (20 if args.quick else 100)
    if ops < 2:
        parser.error("--ops must be at least 2")
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="firebrick-bench-extend-"))
    try:
        results = benchmark(ops, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "extend",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "ops": ops,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        },
        **results,
    }
    print(
        f"firebrick extend benchmark: {ops} detached extends (1 -> 2 GiB, raw sparse files, {ops + WARMUP} volumes "
        f"in the pool), one server process, {report['machine']['cpus']} CPUs; 1-min load average "
        f"{load_before:.2f} before, {report['machine']['load_average_after']:.2f} after\n"
    )
    print(report["table"])
    print(
        "\nvs reference:   the extend's p50 as a multiple of (GET p50 + qemu-img resize p50), the least an"
        "\n                extend that is seen through GET can cost; both measured in this run."
        f"\nReal Cinder (issue figure, not measured here): {CINDER_MS} with a driver that stores nothing."
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"extend-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

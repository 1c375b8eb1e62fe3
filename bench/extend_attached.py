"""Attached-extend benchmark: many simultaneous ``os-extend`` calls on volumes attached to servers.

Against one ``firebrick serve`` (a subprocess on a loopback port, fresh data directory, SQLite,
the fake hypervisor, ``extend_confirm_timeout`` > 0 so every extend waits for the guest's
confirmation), it makes N servers (flavor 1, a 1 MiB public image), N 1 GiB volumes and attaches
one volume to each server. Then it sends the N ``os-extend`` to 2 GiB at volume microversion 3.42
at once (one connection each) and times, per volume, from its request until the volume is
``in-use`` again at 2 GiB: the compute side has resized the guest's disk and the extend is
confirmed. One poller reads the project's volumes (``GET /volumes/detail``) back to back and
notes when each one first shows that; a volume that ends ``error_extending`` is a failure.

Run it from the repository root::

    .venv/bin/python bench/extend_attached.py                # 100 extends
    .venv/bin/python bench/extend_attached.py --count 64 --workers 2

It prints the figures and the target (all confirmed, p99 <= 1 s) with PASS/MISS, and writes
them as JSON to ``bench/results/extend-attached-<timestamp>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    RESULTS_DIR,
    Latencies,
    Session,
    latencies,
    lift_quota,
    log,
    login,
    running_server,
    tree_cpu_seconds,
)

P99_TARGET_MS = 1000.0
SETUP_PARALLEL = 8  # concurrent requests while making servers, volumes and attachments
SETUP_TIMEOUT = 300.0
FLAVOR = "1"


@dataclass(frozen=True)
class Options:
    count: int
    workers: int
    confirm_timeout: int
    timeout: float
    profile: Path | None  # --profile: run the server under bench/sampler.py, report written here


@dataclass(frozen=True)
class Outcome:
    confirmed: int
    failed: dict[str, str]  # volume id -> the status it ended in, for those not confirmed
    post: Latencies  # the os-extend requests themselves (202 answers)
    until_in_use: Latencies | None  # request -> in-use at the new size, confirmed volumes only
    poll_round_ms: float  # median time of one poller round: the resolution of the figures above
    wall_seconds: float  # the first request to the last confirmation
    server_cpu_ms: float = 0.0  # CPU of the serve process tree during the extends, per extend


def _client(url: str, session: Session) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-Auth-Token": session.token}, timeout=60.0)


def _wait_all(ids: list[str], fetch: Callable[[str], str], wanted: str, what: str) -> None:
    """Poll ``fetch(id)`` until every id reports ``wanted``."""
    deadline = time.monotonic() + SETUP_TIMEOUT
    pending = list(ids)
    while pending:
        pending = [i for i in pending if fetch(i) != wanted]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} {what} not {wanted} in time, e.g. {pending[0]}")
        time.sleep(0.1 if pending else 0)


def _in_parallel(make: Callable[[int], str], count: int) -> list[str]:
    with ThreadPoolExecutor(SETUP_PARALLEL) as pool:
        return list(pool.map(make, range(count)))


def public_image(admin: httpx.Client) -> str:
    """An active public image (1 MiB of zeros) for the servers to boot from."""
    spec = {"name": "bench-image", "disk_format": "raw", "container_format": "bare", "visibility": "public"}
    created = admin.post("/image/v2/images", json=spec)
    created.raise_for_status()
    image_id: str = created.json()["id"]
    uploaded = admin.put(
        f"/image/v2/images/{image_id}/file",
        content=b"\0" * 1024 * 1024,
        headers={"Content-Type": "application/octet-stream"},
    )
    uploaded.raise_for_status()
    return image_id


def make_servers(client: httpx.Client, image_id: str, count: int) -> list[str]:
    def create(index: int) -> str:
        spec = {"name": f"bench-{index:03d}", "flavorRef": FLAVOR, "imageRef": image_id}
        response = client.post("/compute/v2.1/servers", json={"server": spec})
        response.raise_for_status()
        server_id: str = response.json()["server"]["id"]
        return server_id

    def status(server_id: str) -> str:
        found: str = client.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["status"]
        if found == "ERROR":
            raise RuntimeError(f"server {server_id} went to ERROR")
        return found

    ids = _in_parallel(create, count)
    _wait_all(ids, status, "ACTIVE", "servers")
    return ids


def make_volumes(client: httpx.Client, volumes: str, count: int) -> list[str]:
    def create(index: int) -> str:
        response = client.post(f"{volumes}/volumes", json={"volume": {"size": 1, "name": f"bench-{index:03d}"}})
        response.raise_for_status()
        volume_id: str = response.json()["volume"]["id"]
        return volume_id

    ids = _in_parallel(create, count)
    _wait_all(ids, lambda v: _volume(client, volumes, v)["status"], "available", "volumes")
    return ids


def attach_all(client: httpx.Client, volumes: str, pairs: list[tuple[str, str]]) -> None:
    def attach(index: int) -> str:
        server_id, volume_id = pairs[index]
        body = {"volumeAttachment": {"volumeId": volume_id}}
        client.post(f"/compute/v2.1/servers/{server_id}/os-volume_attachments", json=body).raise_for_status()
        return volume_id

    ids = _in_parallel(attach, len(pairs))
    _wait_all(ids, lambda v: _volume(client, volumes, v)["status"], "in-use", "volumes")


def _volume(client: httpx.Client, volumes: str, volume_id: str) -> dict[str, Any]:
    response = client.get(f"{volumes}/volumes/{volume_id}")
    response.raise_for_status()
    volume: dict[str, Any] = response.json()["volume"]
    return volume


# --- the measurement: all extends at once ------------------------------------------------------


async def _extend(client: httpx.AsyncClient, volumes: str, volume_id: str, sent: dict[str, float]) -> float:
    started = time.perf_counter()
    sent[volume_id] = started
    response = await client.post(
        f"{volumes}/volumes/{volume_id}/action",
        json={"os-extend": {"new_size": 2}},
        headers={"OpenStack-API-Version": "volume 3.42"},
    )
    if response.status_code != 202:
        raise RuntimeError(f"os-extend of {volume_id} answered {response.status_code}: {response.text}")
    return time.perf_counter() - started


async def _poll(
    client: httpx.AsyncClient, volumes: str, ids: set[str], deadline: float
) -> tuple[dict[str, float], dict[str, str], list[float]]:
    """List the project's volumes back to back until each is in-use at 2 GiB or has failed."""
    seen: dict[str, float] = {}
    failed: dict[str, str] = {}
    rounds: list[float] = []
    while len(seen) + len(failed) < len(ids) and time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await client.get(f"{volumes}/volumes/detail", params={"limit": len(ids) + 10})
        response.raise_for_status()
        now = time.perf_counter()
        rounds.append(now - started)
        for volume in response.json()["volumes"]:
            volume_id, status = volume["id"], volume["status"]
            if volume_id not in ids or volume_id in seen or volume_id in failed:
                continue
            if status == "in-use" and volume["size"] == 2:
                seen[volume_id] = now
            elif status.startswith("error"):
                failed[volume_id] = status
        await asyncio.sleep(0.005)
    return seen, failed, rounds


async def extend_all(url: str, session: Session, volumes: str, ids: list[str], timeout: float) -> Outcome:
    limits = httpx.Limits(max_connections=len(ids) + 1, max_keepalive_connections=len(ids) + 1)
    headers = {"X-Auth-Token": session.token}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout) as client:
        sent: dict[str, float] = {}
        started = time.perf_counter()
        poller = asyncio.create_task(_poll(client, volumes, set(ids), started + timeout))
        posts = await asyncio.gather(*(_extend(client, volumes, v, sent) for v in ids))
        seen, failed, rounds = await poller
    for volume_id in set(ids) - set(seen) - set(failed):
        failed[volume_id] = "not in-use at 2 GiB before the timeout"
    took = [seen[v] - sent[v] for v in seen]
    return Outcome(
        confirmed=len(seen),
        failed=failed,
        post=latencies(posts),
        until_in_use=latencies(took) if took else None,
        poll_round_ms=1000.0 * sorted(rounds)[len(rounds) // 2],
        wall_seconds=(max(seen.values()) - started) if seen else 0.0,
    )


# --- the run -----------------------------------------------------------------------------------


def benchmark(options: Options, workdir: Path) -> Outcome:
    config = workdir / "firebrick.toml"
    config.write_text(f"[volume]\nextend_confirm_timeout = {options.confirm_timeout}\n")
    env = {"FIREBRICK_HYPERVISOR": "fake"}
    launcher = (str(Path(__file__).with_name("sampler.py")), str(options.profile)) if options.profile else ()
    with running_server(
        workdir / "data", config, workers=options.workers, env=env, launcher=launcher or ("-m", "firebrick")
    ) as server:
        log(f"serve --workers {options.workers}: pid {server.process.pid} at {server.url}")
        admin = login(server.url, "admin", ADMIN_PASSWORD, "admin")
        demo = login(server.url, "demo", DEMO_PASSWORD, "demo")
        lift_quota(server.url, admin, demo.project_id)
        volumes = f"/volume/v3/{demo.project_id}"
        with _client(server.url, admin) as admin_client, _client(server.url, demo) as client:
            image_id = public_image(admin_client)
            started = time.perf_counter()
            servers = make_servers(client, image_id, options.count)
            log(f"{len(servers)} servers ACTIVE after {time.perf_counter() - started:.1f} s")
            volume_ids = make_volumes(client, volumes, options.count)
            log(f"{len(volume_ids)} volumes available after {time.perf_counter() - started:.1f} s")
            attach_all(client, volumes, list(zip(servers, volume_ids, strict=True)))
            log(f"all attached (in-use) after {time.perf_counter() - started:.1f} s")
        log(f"{options.count} x os-extend to 2 GiB at 3.42, at once")
        cpu_before = tree_cpu_seconds(server.process.pid)
        if options.profile:
            server.process.send_signal(signal.SIGUSR1)  # the sampler records from now
        outcome = asyncio.run(extend_all(server.url, demo, volumes, volume_ids, options.timeout))
        if options.profile:
            server.process.send_signal(signal.SIGUSR2)
        cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return replace(outcome, server_cpu_ms=1000.0 * cpu / options.count)


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def report_lines(options: Options, outcome: Outcome) -> list[str]:
    took = outcome.until_in_use
    all_confirmed = outcome.confirmed == options.count
    p99_met = took is not None and all_confirmed and took.p99_ms <= P99_TARGET_MS
    lines = [
        f"confirmed (in-use at 2 GiB): {outcome.confirmed} of {options.count}"
        f"  target: all  {'PASS' if all_confirmed else 'MISS'}",
        f"os-extend request (202)       p50 {_ms(outcome.post.p50_ms)}  p99 {_ms(outcome.post.p99_ms)}",
    ]
    if took is not None:
        lines += [
            f"request -> in-use at 2 GiB    p50 {_ms(took.p50_ms)}  p99 {_ms(took.p99_ms)}"
            f"  target: p99 <= {P99_TARGET_MS:.0f} ms  {'PASS' if p99_met else 'MISS'}",
            f"first request -> last confirmation: {outcome.wall_seconds:.2f} s"
            f" ({outcome.confirmed / outcome.wall_seconds:.1f} extends/s)",
            f"server CPU (serve and its children) per extend, polling included: {outcome.server_cpu_ms:.0f} ms",
        ]
    lines.append(f"poller round (GET /volumes/detail) p50 {_ms(outcome.poll_round_ms)}: the figures' resolution")
    lines += [f"  not confirmed: {volume_id} {status}" for volume_id, status in sorted(outcome.failed.items())[:10]]
    return lines


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100, help="servers, volumes and extends (default 100)")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers (default 1)")
    parser.add_argument(
        "--confirm-timeout", type=int, default=120, help="extend_confirm_timeout, seconds, > 0 (default 120)"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="give up on the extends after this (s)")
    parser.add_argument(
        "--profile", type=Path, help="run the server under bench/sampler.py; its report (extends only) goes here"
    )
    args = parser.parse_args(argv)
    if args.count < 1 or args.workers < 1 or args.confirm_timeout < 1:
        parser.error("--count, --workers and --confirm-timeout must be at least 1")
    profile = args.profile.resolve() if args.profile else None
    return Options(args.count, args.workers, args.confirm_timeout, args.timeout, profile)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="firebrick-bench-extend-attached-"))
    try:
        outcome = benchmark(options, workdir)
    except Exception:
        log_path = workdir / "server.log"
        print(log_path.read_text(errors="replace")[-5000:] if log_path.exists() else "", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = report_lines(options, outcome)
    print(
        f"firebrick attached extends: {options.count} servers (fake hypervisor), one attached 1 GiB volume each, "
        f"{options.count} x os-extend to 2 GiB at once\nserve --workers {options.workers}, SQLite, "
        f"extend_confirm_timeout = {options.confirm_timeout}; {os.cpu_count()} CPUs shared with this client; "
        f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print("\n".join(lines))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"extend-attached-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    report = {
        "benchmark": "extend-attached",
        "command": " ".join([sys.executable, *sys.argv]),
        "options": asdict(options) | {"profile": str(options.profile) if options.profile else None},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_before": load_before},
        "outcome": asdict(outcome),
        "lines": lines,
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

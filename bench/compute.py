"""Attach, extend and detach on a real QEMU guest, end to end, beside the same QMP work done directly.

End to end, through ``firebrick serve`` (a subprocess on a loopback port, fresh data
directory, QEMU guests), with one booted server and a fresh 1 GiB volume per round:

* attach: ``POST /servers/{id}/os-volume_attachments`` until the guest's console
  shows ``DISK <serial> 1073741824``;
* extend: ``POST os-extend`` (volume 3.42) until the console shows the new size;
* detach: ``DELETE /servers/{id}/os-volume_attachments/{volume}`` until it shows
  ``DISK-GONE <serial>``.

The console is polled through ``os-getConsoleOutput`` (``length`` 4), every 5 ms.

The floor, measured in the same run on a second guest that this script boots with
the QEMU driver itself: the same QMP commands issued directly (``blockdev-add`` and
``device_add``; ``block_resize``; ``device_del``, ``DEVICE_DELETED`` and
``blockdev-del``), each until the guest reports the change the same way.

Run it from the repository root (QEMU must be installed: ``./run`` or ``./test`` do)::

    .venv/bin/python bench/compute.py            # 20 rounds
    .venv/bin/python bench/compute.py --rounds 50

It prints a table (measurement | p50 | p99 | floor p50 | target | met?) and writes the
same as JSON to ``bench/results/compute-<timestamp>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api import ADMIN_PASSWORD, DEMO_PASSWORD, RESULTS_DIR, Latencies, latencies, log, login, running_server

from firebrick.storage.base import DiskFormat
from firebrick.virt.base import AttachSpec
from firebrick.virt.qemu import QemuHypervisor

GiB = 1024**3
POLL = 0.005
# The targets: attach and detach within the floor + 100 ms, extend within the floor + 40 ms.
MARGINS_MS = {"attach": 100.0, "extend": 40.0, "detach": 100.0}


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(POLL)


class Api:
    """The two APIs as the demo user, over one keep-alive connection each."""

    def __init__(self, url: str) -> None:
        session = login(url, "demo", DEMO_PASSWORD, "demo")
        headers = {"X-Auth-Token": session.token}
        self.volume = httpx.Client(base_url=f"{url}/volume/v3/{session.project_id}", headers=headers)
        self.compute = httpx.Client(base_url=f"{url}/compute/v2.1", headers=headers)

    def console_has(self, server_id: str, line: str) -> bool:
        body = {"os-getConsoleOutput": {"length": 4}}
        output: str = self.compute.post(f"/servers/{server_id}/action", json=body).json()["output"]
        return line in output.splitlines()

    def new_volume(self) -> str:
        volume_id: str = self.volume.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]["id"]
        _until(lambda: self.volume.get(f"/volumes/{volume_id}").json()["volume"]["status"] == "available")
        return volume_id


def _public_image(url: str) -> str:
    admin = login(url, "admin", ADMIN_PASSWORD, "admin")
    client = httpx.Client(base_url=f"{url}/image/v2", headers={"X-Auth-Token": admin.token})
    spec = {"name": "bench", "disk_format": "raw", "container_format": "bare", "visibility": "public"}
    image_id: str = client.post("/images", json=spec).json()["id"]
    client.put(f"/images/{image_id}/file", content=b"\0" * 1024, headers={"Content-Type": "application/octet-stream"})
    return image_id


def end_to_end(url: str, rounds: int) -> dict[str, list[float]]:
    api = Api(url)
    spec = {"server": {"name": "bench", "flavorRef": "1", "imageRef": _public_image(url)}}
    server_id: str = api.compute.post("/servers", json=spec).json()["server"]["id"]
    _until(lambda: api.compute.get(f"/servers/{server_id}").json()["server"]["status"] == "ACTIVE", timeout=180)
    timings: dict[str, list[float]] = {"attach": [], "extend": [], "detach": []}
    for index in range(rounds):
        for name, seconds in _round(api, server_id).items():
            timings[name].append(seconds)
        log(f"end to end round {index + 1}/{rounds}")
    api.compute.delete(f"/servers/{server_id}")
    return timings


def _round(api: Api, server_id: str) -> dict[str, float]:
    """One fresh volume: attach, extend, detach, each timed until the guest reports it."""
    volume_id = api.new_volume()
    serial = volume_id[:20]
    timed: dict[str, float] = {}
    started = time.perf_counter()
    body = {"volumeAttachment": {"volumeId": volume_id}}
    api.compute.post(f"/servers/{server_id}/os-volume_attachments", json=body).raise_for_status()
    _until(lambda: api.console_has(server_id, f"DISK {serial} {GiB}"))
    timed["attach"] = time.perf_counter() - started
    _until(lambda: api.volume.get(f"/volumes/{volume_id}").json()["volume"]["status"] == "in-use")

    started = time.perf_counter()
    headers = {"OpenStack-API-Version": "volume 3.42"}
    api.volume.post(f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": 2}}, headers=headers)
    _until(lambda: api.console_has(server_id, f"DISK {serial} {2 * GiB}"))
    timed["extend"] = time.perf_counter() - started
    _until(lambda: api.volume.get(f"/volumes/{volume_id}").json()["volume"]["status"] == "in-use")

    started = time.perf_counter()
    api.compute.delete(f"/servers/{server_id}/os-volume_attachments/{volume_id}").raise_for_status()
    _until(lambda: api.console_has(server_id, f"DISK-GONE {serial}"))
    timed["detach"] = time.perf_counter() - started
    _until(lambda: api.volume.get(f"/volumes/{volume_id}").json()["volume"]["status"] == "available")
    api.volume.delete(f"/volumes/{volume_id}")
    return timed


def floor(work: Path, rounds: int) -> dict[str, list[float]]:
    """The same QMP commands through the QEMU driver directly, on a guest of its own."""
    driver = QemuHypervisor(work / "instances")
    server_id = f"floor-{uuid.uuid4().hex[:8]}"
    timings: dict[str, list[float]] = {"attach": [], "extend": [], "detach": []}
    try:
        driver.boot(server_id, 256)
        for index in range(rounds):
            path = work / f"floor-{index}.raw"
            with path.open("wb") as volume_file:
                volume_file.truncate(GiB)
            serial = f"floor{index:015d}"
            started = time.perf_counter()
            driver.attach(server_id, AttachSpec(serial, path, DiskFormat.RAW))
            driver.wait_guest_disk(server_id, serial, GiB, 30)
            timings["attach"].append(time.perf_counter() - started)

            with path.open("r+b") as volume_file:
                volume_file.truncate(2 * GiB)  # the storage grew first, as the volume side does
            started = time.perf_counter()
            driver.extend(server_id, serial, 2 * GiB)
            driver.wait_guest_disk(server_id, serial, 2 * GiB, 30)
            timings["extend"].append(time.perf_counter() - started)

            started = time.perf_counter()
            driver.detach(server_id, serial)
            driver.wait_guest_disk(server_id, serial, None, 30)
            timings["detach"].append(time.perf_counter() - started)
            path.unlink()
            log(f"floor round {index + 1}/{rounds}")
    finally:
        driver.destroy(server_id)
        driver.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="firebrick-bench-compute-"))
    try:
        floor_timings = floor(work, args.rounds)
        with running_server(work / "data") as server:
            measured = end_to_end(server.url, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows: list[dict[str, Any]] = []
    print(f"{'measurement':<10} | {'p50':>9} | {'p99':>9} | {'floor p50':>9} | {'target':>14} | met?")
    print("-" * 72)
    for name in ("attach", "extend", "detach"):
        ours: Latencies = latencies(measured[name])
        base: Latencies = latencies(floor_timings[name])
        target = base.p50_ms + MARGINS_MS[name]
        met = ours.p50_ms <= target
        rows.append(
            {"name": name, "p50_ms": ours.p50_ms, "p99_ms": ours.p99_ms, "floor_p50_ms": base.p50_ms,
             "floor_p99_ms": base.p99_ms, "target_ms": target, "met": met, "n": len(measured[name])}
        )  # fmt: skip
        print(f"{name:<10} | {ours.p50_ms:7.1f}ms | {ours.p99_ms:7.1f}ms | {base.p50_ms:7.1f}ms | "
              f"<= {target:8.1f} ms | {'yes' if met else 'NO'}")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"compute-{stamp}.json"
    out.write_text(json.dumps({"rounds": args.rounds, "rows": rows}, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()

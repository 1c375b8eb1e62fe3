"""Migrating an attached volume between backends, beside a plain ``qemu-img convert`` of the same data.

Through ``firebrick serve`` (a subprocess on a loopback port, fresh data directory, two backends:
a raw pool and a qcow2 pool in different directories on the same file system, QEMU guests), with
one booted server. Each round makes a 1 GiB volume on the raw pool, fills its first 512 MiB with
random bytes (written into the file before the attach, so the guest's speed plays no part),
attaches it, and times ``os-migrate_volume`` to the qcow2 pool from the POST until the volume
shows ``migration_status: success`` (polled every 20 ms): the compute side's ``blockdev-mirror``
of the running disk, the pivot, and both sides' bookkeeping.

The floor, in the same run on the same file system: ``qemu-img convert -f raw -O qcow2`` of a
file holding the same 512 MiB (the copy a detached migration makes), timed the same way.

Effective throughput is the 512 MiB written divided by the wall time.

Run it from the repository root (QEMU must be installed: ``./run`` or ``./test`` do)::

    .venv/bin/python bench/migrate.py            # 3 rounds
    .venv/bin/python bench/migrate.py --rounds 5

It prints a table (measurement | p50 | min | max | MiB/s at p50) and writes the same as JSON to
``bench/results/migrate-<timestamp>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from api import ADMIN_PASSWORD, RESULTS_DIR, log, login, running_server

MiB = 1024**2
WRITTEN = 512 * MiB
POLL = 0.02
_CONFIG = """
[[backends]]
name = "raw"
format = "raw"

[[backends]]
name = "qcow2"
format = "qcow2"
"""


def _until(check: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        time.sleep(POLL)


def _fill(path: Path) -> None:
    """The first 512 MiB of ``path`` become random bytes (no zero run for a copy to skip)."""
    with path.open("r+b") as stream:
        for _ in range(WRITTEN // MiB):
            stream.write(os.urandom(MiB))
        stream.flush()
        os.fsync(stream.fileno())


class Cloud:
    """Both APIs as the admin (migration is an admin action), over one keep-alive connection each."""

    def __init__(self, url: str) -> None:
        session = login(url, "admin", ADMIN_PASSWORD, "admin")
        headers = {"X-Auth-Token": session.token}
        self.volume = httpx.Client(base_url=f"{url}/volume/v3/{session.project_id}", headers=headers, timeout=60)
        self.compute = httpx.Client(base_url=f"{url}/compute/v2.1", headers=headers, timeout=60)
        self.image = httpx.Client(base_url=f"{url}/image/v2", headers=headers, timeout=60)

    def volume_body(self, volume_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.volume.get(f"/volumes/{volume_id}").json()["volume"]
        return body

    def type_on(self, backend: str) -> str:
        made = self.volume.post("/types", json={"volume_type": {"name": f"bench-{backend}"}}).json()
        type_id: str = made["volume_type"]["id"]
        self.volume.post(f"/types/{type_id}/extra_specs", json={"extra_specs": {"volume_backend_name": backend}})
        return type_id

    def server(self) -> str:
        spec = {"name": "bench", "disk_format": "raw", "container_format": "bare", "visibility": "public"}
        image_id = self.image.post("/images", json=spec).json()["id"]
        headers = {"Content-Type": "application/octet-stream"}
        self.image.put(f"/images/{image_id}/file", content=b"\0" * MiB, headers=headers)
        body = {"server": {"name": "bench", "flavorRef": "1", "imageRef": image_id}}
        server_id: str = self.compute.post("/servers", json=body).json()["server"]["id"]
        _until(lambda: self.compute.get(f"/servers/{server_id}").json()["server"]["status"] == "ACTIVE")
        return server_id


def end_to_end(server_url: str, data_dir: Path, rounds: int) -> list[float]:
    cloud = Cloud(server_url)
    on_raw, server_id = cloud.type_on("raw"), cloud.server()
    qcow2_host = next(p["name"] for p in cloud.volume.get("/scheduler-stats/get_pools").json()["pools"]
                      if "@qcow2#" in p["name"])  # fmt: skip
    timings = []
    for index in range(rounds):
        volume = cloud.volume.post("/volumes", json={"volume": {"size": 1, "volume_type": on_raw}}).json()["volume"]
        _until(lambda v=volume["id"]: cloud.volume_body(v)["status"] == "available")
        _fill(data_dir / "pools" / "raw" / f"volume-{volume['id']}")
        attach = {"volumeAttachment": {"volumeId": volume["id"]}}
        cloud.compute.post(f"/servers/{server_id}/os-volume_attachments", json=attach)
        _until(lambda v=volume["id"]: cloud.volume_body(v)["status"] == "in-use")
        started = time.perf_counter()
        action = {"os-migrate_volume": {"host": qcow2_host}}
        answer = cloud.volume.post(f"/volumes/{volume['id']}/action", json=action)
        answer.raise_for_status()
        _until(lambda v=volume["id"]: cloud.volume_body(v)["migration_status"] in ("success", "error"))
        timings.append(time.perf_counter() - started)
        body = cloud.volume_body(volume["id"])
        if body["migration_status"] != "success":
            raise RuntimeError(f"migration failed: {body}")
        cloud.compute.delete(f"/servers/{server_id}/os-volume_attachments/{volume['id']}")
        _until(lambda v=volume["id"]: cloud.volume_body(v)["status"] == "available")
        cloud.volume.delete(f"/volumes/{volume['id']}")
        log(f"migration round {index + 1}/{rounds}: {timings[-1]:.2f} s")
    cloud.compute.delete(f"/servers/{server_id}")
    return timings


def floor(work: Path, rounds: int) -> list[float]:
    source, target = work / "floor-source.raw", work / "floor-target.qcow2"
    with source.open("wb") as stream:
        stream.truncate(1024 * MiB)
    _fill(source)
    timings = []
    for index in range(rounds):
        target.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(source), str(target)], check=True)
        timings.append(time.perf_counter() - started)
        log(f"qemu-img convert round {index + 1}/{rounds}: {timings[-1]:.2f} s")
    source.unlink()
    target.unlink()
    return timings


def _row(name: str, seconds: list[float]) -> dict[str, Any]:
    ordered = sorted(seconds)
    p50 = ordered[len(ordered) // 2]
    return {"name": name, "p50_s": p50, "min_s": ordered[0], "max_s": ordered[-1],
            "mib_per_s_p50": WRITTEN / MiB / p50, "n": len(seconds)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="firebrick-bench-migrate-"))
    try:
        config = work / "two-backends.toml"
        config.write_text(_CONFIG)
        with running_server(work / "data", config) as server:
            measured = end_to_end(server.url, work / "data", args.rounds)
        baseline = floor(work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [_row("attached migration (raw -> qcow2)", measured), _row("qemu-img convert (raw -> qcow2)", baseline)]
    print(f"{'measurement':<34} | {'p50':>8} | {'min':>8} | {'max':>8} | MiB/s at p50")
    print("-" * 80)
    for row in rows:
        print(f"{row['name']:<34} | {row['p50_s']:6.2f} s | {row['min_s']:6.2f} s | {row['max_s']:6.2f} s | "
              f"{row['mib_per_s_p50']:8.1f}")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"migrate-{stamp}.json"
    out.write_text(json.dumps({"rounds": args.rounds, "written_bytes": WRITTEN, "rows": rows}, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()

"""``kill -9`` while a detached volume is being copied to another backend, then a restart.

A ``sitecustomize`` shim holds every ``qemu-img convert`` (the migration's copy into the
destination pool) and says so with a marker file, so the node dies mid-copy, before or
after the copy was written. The restarted node (without the shim) resumes the migration's
job: the volume ends settled on one pool with its bytes, and neither pool keeps a stray or
half-written file.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, token_for
from tests.workers.test_kill_actions import _pattern, _project_of, _read_pattern, _wait_for_markers
from tests.workers.test_kill_restart import Process, _pending_jobs, _wait

GiB = 1024**3

_SHIM = """
import time
from pathlib import Path

import firebrick.storage._qemu_img as qemu_img

_convert = qemu_img.convert


def _held(source, source_format, target, target_format, *args, **kwargs):
    {copy}
    Path({markers!r}, "convert." + Path(target).name).touch()
    time.sleep(60)
    {finish}


qemu_img.convert = _held
"""

_BACKENDS = """
[[backends]]
name = "raw"
path = "{pools}/raw"
format = "raw"

[[backends]]
name = "qcow2"
path = "{pools}/qcow2"
format = "qcow2"
"""


def _admin(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-Auth-Token": token_for(url, "admin", ADMIN_PASSWORD, "admin")})


def _as_raw(path: Path, fmt: str, target: Path) -> Path:
    subprocess.run(["qemu-img", "convert", "-U", "-f", fmt, "-O", "raw", str(path), str(target)], check=True)
    return target


def _settled(client: httpx.Client, project: str, volume_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        shown: dict[str, Any] = client.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]
        if shown["migration_status"] in ("success", "error") or time.monotonic() > deadline:
            return shown
        time.sleep(0.05)


@pytest.mark.parametrize("copy_first", [False, True], ids=["before-the-copy", "after-the-copy"])
def test_kill_9_mid_migration_then_restart_settles_with_every_byte(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Process], copy_first: bool
) -> None:
    directory, db_url = data_dir
    pools = tmp_path / "pools"
    config = tmp_path / "firebrick.toml"
    config.write_text(_BACKENDS.format(pools=pools))
    markers, shim = tmp_path / "markers", tmp_path / "shim"
    markers.mkdir()
    shim.mkdir()
    copy = "_convert(source, source_format, target, target_format, *args, **kwargs)"
    held = {"copy": copy, "finish": "return"} if copy_first else {"copy": "pass", "finish": copy}
    (shim / "sitecustomize.py").write_text(_SHIM.format(markers=str(markers), **held))
    node = Process(directory, db_url, python_first=shim, config=config)
    processes.append(node)
    admin = _admin(node.url)
    project = _project_of(admin)
    created = admin.post(f"/volume/v3/{project}/volumes", json={"volume": {"size": 1, "name": "moving"}})
    volume_id = created.json()["volume"]["id"]
    _wait(admin, project, volume_id, "available")
    source = pools / "raw" / f"volume-{volume_id}"
    written = _pattern(source)
    destination = admin.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]["os-vol-host-attr:host"]
    target_host = destination.replace("@raw#", "@qcow2#")
    moved = admin.post(
        f"/volume/v3/{project}/volumes/{volume_id}/action", json={"os-migrate_volume": {"host": target_host}}
    )
    assert moved.status_code == 202, moved.text
    _wait_for_markers(markers, 1)
    node.kill_group()
    admin.close()
    assert _pending_jobs(db_url) >= 1 and source.is_file()

    second = Process(directory, db_url, config=config)
    processes.append(second)
    with _admin(second.url) as again:
        shown = _settled(again, project, volume_id)
    assert shown["status"] == "available" and shown["migration_status"] in ("success", "error")
    lives_on = "qcow2" if shown["os-vol-host-attr:host"] == target_host else "raw"
    other = "raw" if lives_on == "qcow2" else "qcow2"
    assert (shown["migration_status"] == "success") == (lives_on == "qcow2")
    live = pools / lives_on / f"volume-{volume_id}"
    assert _read_pattern(_as_raw(live, lives_on, tmp_path / "check.raw"), GiB) == written
    assert not (pools / other / f"volume-{volume_id}").exists()  # no stray copy left behind
    assert not [p.name for pool in ("raw", "qcow2") for p in (pools / pool).iterdir() if p.name.startswith(".tmp")]
    assert _pending_jobs(db_url) == 0

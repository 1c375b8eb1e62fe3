"""``kill -9`` while a manage grows the file it adopted, then a restart: the volume lands, its bytes intact.

The shim of ``test_kill_actions`` holds the growth of raw files; adopting a 1.5 GiB file
renames it to the volume's name, then grows it to 2 GiB, so the node dies after the
rename, either before the growth or after it. The restarted node (without the shim)
resumes the manage job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, token_for
from tests.workers.test_kill_actions import _project_of, _rows, _shim, _wait_for_markers
from tests.workers.test_kill_restart import Process, _pending_jobs, _wait

GiB = 1024**3
MiB = 1024**2


def _drop(pool: Path) -> tuple[Path, str]:
    path = pool / "legacy-disk.img"
    chunk = hashlib.sha256(b"legacy").digest() * 4096
    with path.open("wb") as stream:
        stream.write(chunk)
        stream.truncate(1536 * MiB)
    return path, hashlib.sha256(chunk).hexdigest()


@pytest.mark.parametrize("resize_first", [False, True], ids=["before-the-file-grew", "after-the-file-grew"])
def test_kill_9_mid_manage_then_restart_lands_the_volume(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Process], resize_first: bool
) -> None:
    directory, db_url = data_dir
    markers = tmp_path / "markers"
    markers.mkdir()
    node = Process(directory, db_url, python_first=_shim(tmp_path / "shim", markers, resize_first))
    processes.append(node)
    pool = directory / "pools" / "file"
    source, digest = _drop(pool)
    admin = httpx.Client(
        base_url=node.url, headers={"X-Auth-Token": token_for(node.url, "admin", ADMIN_PASSWORD, "admin")}
    )
    project = _project_of(admin)
    host = admin.get(f"/volume/v3/{project}/os-services?binary=cinder-volume").json()["services"][0]["host"] + "#pool"
    body = {"volume": {"host": host, "ref": {"source-name": source.name}}}
    response = admin.post(f"/volume/v3/{project}/os-volume-manage", json=body)
    assert response.status_code == 202, response.text
    volume_id = response.json()["volume"]["id"]
    _wait_for_markers(markers, 1)
    node.kill_group()
    admin.close()

    adopted = pool / f"volume-{volume_id}"
    assert _rows(db_url)[volume_id] == ("managing", 2)  # the size was charged before the file was touched
    assert not source.exists() and adopted.stat().st_size == (2 * GiB if resize_first else 1536 * MiB)

    second = Process(directory, db_url)
    processes.append(second)
    with httpx.Client(
        base_url=second.url, headers={"X-Auth-Token": token_for(second.url, "admin", ADMIN_PASSWORD, "admin")}
    ) as again:
        _wait(again, project, volume_id, "available")
        shown = again.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]
    assert shown["size"] == 2 and adopted.stat().st_size == 2 * GiB
    with adopted.open("rb") as stream:
        assert hashlib.sha256(stream.read(len(hashlib.sha256(b"legacy").digest()) * 4096)).hexdigest() == digest
    assert _pending_jobs(db_url) == 0
    assert not [p for p in pool.iterdir() if p.name.startswith(".tmp")]

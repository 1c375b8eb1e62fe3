"""``kill -9`` in the middle of volume actions, then a restart: nothing stays transitional, no byte is lost.

A ``sitecustomize`` shim ahead of ``PYTHONPATH`` holds every growth of a raw volume file
at a chosen point and says so with a marker file, so the node dies exactly there: before
the file grew, or after it grew but before the new size was recorded. Four held extends
also keep all four worker threads busy, so a retype and an unmanage asked for meanwhile are
still queued when the node dies. The whole process group dies, as it does when a machine
loses power; the restarted node runs without the shim.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD, token_for
from tests.workers.test_kill_restart import Process, _client, _create, _pending_jobs, _wait

GiB = 1024**3
_SIZES = (1, 2, 3, 4)  # one volume of each, each grown by 2 GiB: as many as the worker has threads

# Loaded by the node's interpreter at start: each raw growth leaves a marker named after its file.
_SHIM = """
import time
from pathlib import Path

import firebrick.storage.file as storage_file

_grow = storage_file._grow_raw


def _held(path, size):
    {grow}
    Path({markers!r}, "resize." + path.name).touch()
    time.sleep(60)
    {finish}


storage_file._grow_raw = _held
"""




@dataclass
class HeldExtends:
    """A node whose extends are all held while growing their files, and what they started from."""

    node: Process
    client: httpx.Client
    project: str
    pool: Path
    sizes: dict[str, int]  # volume id -> size before the extend
    written: dict[str, str]  # volume id -> digest of the bytes written before
    others: list[str]  # available 1 GiB volumes made beforehand, not extended


def _shim(directory: Path, markers: Path, resize_first: bool) -> Path:
    grow, finish = ("_grow(path, size)", "return") if resize_first else ("pass", "_grow(path, size)")
    directory.mkdir()
    (directory / "sitecustomize.py").write_text(_SHIM.format(grow=grow, finish=finish, markers=str(markers)))
    return directory


def _hold_extends(tmp_path: Path, directory: Path, db_url: str, resize_first: bool, others: int = 0) -> HeldExtends:
    markers = tmp_path / "markers"
    markers.mkdir()
    node = Process(directory, db_url, python_first=_shim(tmp_path / "shim", markers, resize_first))
    client = _client(node.url)
    project = client.headers["x-project"]
    pool = directory / "pools" / "file"
    sizes = {_create(client, project, f"grow-{size}", size): size for size in _SIZES}
    spare = [_create(client, project, f"other-{index}", 1) for index in range(others)]
    written = {}
    for volume_id in [*sizes, *spare]:
        _wait(client, project, volume_id, "available")
        written[volume_id] = _pattern(pool / f"volume-{volume_id}")
    for volume_id, size in sizes.items():
        response = _action(client, project, volume_id, {"os-extend": {"new_size": size + 2}})
        assert response.status_code == 202, response.text
    _wait_for_markers(markers, len(sizes))
    return HeldExtends(node, client, project, pool, sizes, written, spare)


def _action(client: httpx.Client, project: str, volume_id: str, body: object) -> httpx.Response:
    return client.post(f"/volume/v3/{project}/volumes/{volume_id}/action", json=body)


def _pattern(path: Path) -> str:
    """Write recognisable bytes at the start and the very end of a volume; return their digest."""
    digest = hashlib.sha256()
    with path.open("r+b") as volume_file:
        for offset in (0, path.stat().st_size - 8192):
            chunk = hashlib.sha256(f"{path.name}:{offset}".encode()).digest() * 256
            volume_file.seek(offset)
            volume_file.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _read_pattern(path: Path, old_size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as volume_file:
        for offset in (0, old_size - 8192):
            volume_file.seek(offset)
            digest.update(volume_file.read(8192))
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db_url: str) -> dict[str, tuple[str, int]]:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, size FROM volumes")).all()
    engine.dispose()
    return {row[0]: (row[1], row[2]) for row in rows}


def _wait_for_markers(markers: Path, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(list(markers.iterdir())) < count:
        assert time.monotonic() < deadline, f"only {len(list(markers.iterdir()))} resizes reached the shim"
        time.sleep(0.02)


def _settle(client: httpx.Client, project: str, timeout: float = 60.0) -> dict[str, dict[str, object]]:
    """The project's volumes once none is transitional (or the timeout passed)."""
    transitional = {"extending", "retyping", "unmanaging"}
    deadline = time.monotonic() + timeout
    while True:
        volumes = client.get(f"/volume/v3/{project}/volumes/detail").json()["volumes"]
        if not transitional & {v["status"] for v in volumes} or time.monotonic() > deadline:
            return {v["id"]: v for v in volumes}
        time.sleep(0.05)


def _assert_extends_landed(held: HeldExtends, volumes: dict[str, dict[str, object]]) -> None:
    for volume_id, size in held.sizes.items():
        path = held.pool / f"volume-{volume_id}"
        assert (volumes[volume_id]["status"], volumes[volume_id]["size"]) == ("available", size + 2)
        assert path.stat().st_size == (size + 2) * GiB  # the recorded size is the file's
        assert _read_pattern(path, size * GiB) == held.written[volume_id]


@pytest.mark.parametrize("resize_first", [False, True], ids=["before-the-file-grew", "after-the-file-grew"])
def test_kill_9_mid_extend_then_restart_lands_every_extend(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Process], resize_first: bool
) -> None:
    directory, db_url = data_dir
    held = _hold_extends(tmp_path, directory, db_url, resize_first)
    processes.append(held.node)
    held.node.kill_group()
    held.client.close()

    assert _pending_jobs(db_url) == len(held.sizes)  # the kill landed mid-extend, every one of them
    assert {status for status, _ in _rows(db_url).values()} == {"extending"}
    for volume_id, size in held.sizes.items():
        grown = (held.pool / f"volume-{volume_id}").stat().st_size
        assert grown == (size + 2 if resize_first else size) * GiB

    second = Process(directory, db_url)
    processes.append(second)
    client = _client(second.url)
    volumes = _settle(client, held.project)
    client.close()
    _assert_extends_landed(held, volumes)
    assert _pending_jobs(db_url) == 0
    assert not [p for p in held.pool.iterdir() if p.name.startswith(".tmp")]


def test_kill_9_with_a_retype_and_an_unmanage_queued_then_restart_finishes_both(
    tmp_path: Path, data_dir: tuple[Path, str], processes: list[Process]
) -> None:
    directory, db_url = data_dir
    held = _hold_extends(tmp_path, directory, db_url, resize_first=False, others=2)
    processes.append(held.node)
    project, client = held.project, held.client
    retyped, unmanaged = held.others
    kept = held.pool / f"volume-{unmanaged}"
    kept_digest = _sha256(kept)
    admin_token = token_for(held.node.url, "admin", ADMIN_PASSWORD, "admin")
    with httpx.Client(base_url=held.node.url, headers={"X-Auth-Token": admin_token}) as admin:
        admin_project = _project_of(admin)  # an admin names its own project in the URL, any volume after it
        body = {"volume_type": {"name": "gold", "extra_specs": {}}}
        assert admin.post(f"/volume/v3/{admin_project}/types", json=body).status_code == 200
        assert _action(admin, admin_project, unmanaged, {"os-unmanage": {}}).status_code == 202
    assert _action(client, project, retyped, {"os-retype": {"new_type": "gold"}}).status_code == 202
    held.node.kill_group()
    client.close()

    rows = _rows(db_url)
    assert (rows[retyped][0], rows[unmanaged][0]) == ("retyping", "unmanaging")  # queued behind the extends
    assert _pending_jobs(db_url) == len(held.sizes) + 2

    second = Process(directory, db_url)
    processes.append(second)
    client = _client(second.url)
    volumes = _settle(client, project)
    client.close()
    _assert_extends_landed(held, volumes)
    assert (volumes[retyped]["status"], volumes[retyped]["volume_type"]) == ("available", "gold")
    assert unmanaged not in volumes and unmanaged not in _rows(db_url)
    assert _sha256(kept) == kept_digest
    assert _pending_jobs(db_url) == 0


def _project_of(client: httpx.Client) -> str:
    token = client.headers["X-Auth-Token"]
    body = client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
    return str(body["token"]["project"]["id"])

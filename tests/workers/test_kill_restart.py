"""``kill -9`` while jobs are queued, then a restart: nothing stays transitional, no byte is lost."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, token_for

_TRANSITIONAL = {"creating", "deleting"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """``firebrick serve`` in a session of its own; ``python_first`` is put ahead of ``PYTHONPATH``
    (to load a ``sitecustomize`` shim); ``config`` is a settings file (``--config``)."""

    def __init__(
        self, data_dir: Path, db_url: str, python_first: Path | None = None, config: Path | None = None
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FIREBRICK_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "FIREBRICK_DEMO_PASSWORD": DEMO_PASSWORD,
            "FIREBRICK_DATABASE_URL": db_url,
            "FIREBRICK_HYPERVISOR": "fake",
            # A restarted node takes over the jobs its dead predecessor held once their claims lapse.
            "FIREBRICK_JOB_LEASE": "2",
        }
        if python_first is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_first), env.get("PYTHONPATH")]))
        settings = ["--config", str(config)] if config is not None else []
        where = ["--data-dir", str(data_dir), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firebrick", "serve", *settings, *where],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("firebrick did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def kill_group(self) -> None:
        """SIGKILL the server and every process it started (qemu-img included), as a node that dies loses them."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)




def test_kill_9_mid_work_then_restart_settles_everything(data_dir: tuple[Path, str], processes: list[Process]) -> None:
    directory, db_url = data_dir
    first = Process(directory, db_url)
    processes.append(first)
    client = _client(first.url)
    project = client.headers["x-project"]
    keep = _create(client, project, "keep", 4)
    _wait(client, project, keep, "available")
    pool = directory / "pools" / "file"
    with (pool / f"volume-{keep}").open("r+b") as volume_file:  # data that must survive, written in place
        volume_file.write(b"precious" * 512)
        # Enough real bytes behind it that copying them keeps the clones busy when the kill lands.
        volume_file.seek(2**20)
        for _ in range(16):
            volume_file.write(b"\xa5" * 2**24)
    doomed = [_create(client, project, f"v{i}", 1) for i in range(3)]
    clones = [_create(client, project, f"c{i}", 4, source_volid=keep) for i in range(5)]
    assert client.delete(f"/volume/v3/{project}/volumes/{doomed[0]}").status_code in (202, 400)
    first.kill()
    client.close()
    assert _pending_jobs(db_url) > 0, "the kill landed after all work was done: nothing was tested"

    second = Process(directory, db_url)
    processes.append(second)
    client = _client(second.url)
    statuses = _settle(client, project)
    client.close()
    assert not _TRANSITIONAL & set(statuses.values()), statuses
    assert set(clones) <= set(statuses)
    for volume_id, status in statuses.items():
        if status == "available":
            assert (pool / f"volume-{volume_id}").stat().st_size >= 1024**3
    for clone in clones:
        if statuses[clone] == "available":  # a finished clone carries the source's bytes
            assert _head(pool / f"volume-{clone}") == b"precious" * 512
    assert _head(pool / f"volume-{keep}") == b"precious" * 512
    assert not [p for p in pool.iterdir() if p.name.startswith(".tmp")]


def _client(url: str) -> httpx.Client:
    token = token_for(url, "demo", DEMO_PASSWORD, "demo")
    client = httpx.Client(base_url=url, headers={"X-Auth-Token": token})
    body = client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
    client.headers["x-project"] = body["token"]["project"]["id"]
    return client


def _create(client: httpx.Client, project: str, name: str, size: int, **extra: str) -> str:
    response = client.post(f"/volume/v3/{project}/volumes", json={"volume": {"size": size, "name": name, **extra}})
    assert response.status_code == 202, response.text
    return str(response.json()["volume"]["id"])


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def _pending_jobs(db_url: str) -> int:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        count = int(conn.execute(sa.text("SELECT count(*) FROM jobs")).scalar_one())
    engine.dispose()
    return count


def _wait(client: httpx.Client, project: str, volume_id: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"/volume/v3/{project}/volumes/{volume_id}").json()["volume"]["status"] != status:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _settle(client: httpx.Client, project: str) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while True:
        volumes = client.get(f"/volume/v3/{project}/volumes/detail").json()["volumes"]
        statuses = {v["id"]: v["status"] for v in volumes}
        if not _TRANSITIONAL & set(statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)

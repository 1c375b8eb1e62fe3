"""Fixtures that start real things: a firebrick server on a free loopback port,
a real database built by Alembic (SQLite by default; PostgreSQL when
``FIREBRICK_TEST_DATABASE_URL`` names a server), real ``qemu-img`` pools.

Each server gets its own database: a SQLite file in its data directory, or a
freshly created PostgreSQL database dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from firebrick.api.app import build_app
from firebrick.config import Settings, load_settings
from firebrick.domain.identity import Account, ensure_account
from firebrick.node import Node

ADMIN_PASSWORD = "admin-secret"
DEMO_PASSWORD = "demo-secret"
OTHER_PASSWORD = "other-secret"
READER_PASSWORD = "reader-secret"

_PG_URL = os.environ.get("FIREBRICK_TEST_DATABASE_URL")

pytest_plugins = ["tests.fixtures_domain"]

# As ``firebrick serve`` does (cli.py): the servers these fixtures run share the interpreter with
# their job threads and the test's client, and each hand-off between them would otherwise wait
# up to 5 ms for the GIL.
sys.setswitchinterval(0.001)


def database_url(data_dir: Path) -> Iterator[str]:
    """A fresh, empty database for one server (generator: drops it afterwards on PostgreSQL)."""
    if not _PG_URL:
        yield f"sqlite:///{data_dir / 'firebrick.db'}"
        return
    name = f"fb_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(_PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def make_settings(data_dir: Path, db_url: str, **toml: Any) -> Settings:
    environ = {"FIREBRICK_ADMIN_PASSWORD": ADMIN_PASSWORD, "FIREBRICK_DEMO_PASSWORD": DEMO_PASSWORD}
    settings = load_settings(None, environ, data_dir=str(data_dir), port=0)
    # Guests are the fake hypervisor's unless a test asks for QEMU (tests/api/compute/test_guest.py does).
    return replace(settings, database_url=db_url, **{"hypervisor": "fake", **toml})


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class RunningServer:
    """A firebrick serving in a thread of this process; ``node`` is its live wiring."""

    url: str
    node: Node
    settings: Settings
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no job row is left for this node (the worker drained its queue)."""
        deadline = time.monotonic() + timeout
        while self.node.repos.jobs.pending(self.node.settings.node_name) or not self.node.runner.idle():
            if time.monotonic() > deadline:
                raise TimeoutError("jobs still pending")
            time.sleep(0.02)


def start_server(settings: Settings) -> RunningServer:
    sock = _free_socket()
    port = sock.getsockname()[1]
    settings = settings.with_port(port)
    node = Node(settings)
    config = uvicorn.Config(build_app(node), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("firebrick did not start")
        time.sleep(0.01)
    return RunningServer(settings.public_url, node, settings, server, thread)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One shared server for the whole session; tests make their own volumes."""
    data_dir = tmp_path_factory.mktemp("firebrick")
    urls = database_url(data_dir)
    running = start_server(make_settings(data_dir, next(urls)))
    identity = running.node.repos.identity
    ensure_account(identity, Account("other", "other", OTHER_PASSWORD, ("member",)))
    ensure_account(identity, Account("reader", "demo", READER_PASSWORD, ("reader",)))
    try:
        yield running
    finally:
        running.stop()
        next(urls, None)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start private servers (for restarts, odd settings); all are stopped afterwards."""
    started: list[RunningServer] = []
    urls = database_url(tmp_path)
    db_url = next(urls)

    def factory(**overrides: Any) -> RunningServer:
        running = start_server(make_settings(tmp_path / "data", db_url, **overrides))
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()
    next(urls, None)


def token_for(url: str, user: str, password: str, project: str) -> str:
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
    return response.headers["x-subject-token"]


@dataclass
class ApiClient:
    """Raw HTTP against the volume API as one user, for exact status codes and bodies."""

    http: httpx.Client
    project_id: str

    def volume(self, method: str, path: str, version: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        return self.http.request(method, f"/volume/v3/{self.project_id}{path}", headers=headers, **kwargs)

    def compute(self, method: str, path: str, version: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if version:
            headers["OpenStack-API-Version"] = f"compute {version}"
        return self.http.request(method, f"/compute/v2.1{path}", headers=headers, **kwargs)

    def wait_volume(self, volume_id: str, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
        return _wait(lambda: self.volume("GET", f"/volumes/{volume_id}"), "volume", statuses, timeout)

    def wait_snapshot(self, snapshot_id: str, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
        return _wait(lambda: self.volume("GET", f"/snapshots/{snapshot_id}"), "snapshot", statuses, timeout)

    def wait_gone(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.volume("GET", path).status_code != 404:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} still exists")
            time.sleep(0.05)


def _wait(fetch: Callable[[], httpx.Response], key: str, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = fetch().json()[key]
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key} {body['id']} is {body['status']}, wanted {statuses}")
        time.sleep(0.05)


def api_client(server: RunningServer, user: str, password: str, project: str) -> ApiClient:
    token = token_for(server.url, user, password, project)
    project_row = server.node.repos.identity.project(name=project)
    assert project_row is not None
    return ApiClient(httpx.Client(base_url=server.url, headers={"X-Auth-Token": token}), project_row.id)


@contextmanager
def logged_in(server: RunningServer, user: str, password: str, project: str) -> Iterator[ApiClient]:
    """An ApiClient for the duration of a block; its connections are closed afterwards."""
    client = api_client(server, user, password, project)
    try:
        yield client
    finally:
        client.http.close()


@pytest.fixture(scope="session")
def demo(server: RunningServer) -> Iterator[ApiClient]:
    with logged_in(server, "demo", DEMO_PASSWORD, "demo") as client:
        yield client


@pytest.fixture(scope="session")
def admin(server: RunningServer) -> Iterator[ApiClient]:
    with logged_in(server, "admin", ADMIN_PASSWORD, "admin") as client:
        yield client


@pytest.fixture(scope="session")
def other(server: RunningServer) -> Iterator[ApiClient]:
    with logged_in(server, "other", OTHER_PASSWORD, "other") as client:
        yield client


@pytest.fixture(scope="session")
def reader(server: RunningServer) -> Iterator[ApiClient]:
    with logged_in(server, "reader", READER_PASSWORD, "demo") as client:
        yield client

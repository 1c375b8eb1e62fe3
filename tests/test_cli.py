"""The ``firebrick`` command: ``db upgrade``, ``bootstrap`` in-process, ``serve`` as a real process."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from firebrick.cli import main
from firebrick.db import Database, IdentityRepository
from firebrick.domain.identity.passwords import verify_password
from tests.conftest import database_url

_ENV_SETTINGS = (
    "FIREBRICK_HOST",
    "FIREBRICK_PORT",
    "FIREBRICK_PUBLIC_URL",
    "FIREBRICK_DATA_DIR",
    "FIREBRICK_DATABASE_URL",
    "FIREBRICK_POLICY_FILE",
    "FIREBRICK_COMPUTE_URL",
    "FIREBRICK_ADMIN_PASSWORD",
    "FIREBRICK_DEMO_PASSWORD",
)


class DataDir:
    """An empty data directory and the database the command will use for it."""

    def __init__(self, path: Path, url: str) -> None:
        self.path, self.url = path, url

    @property
    def clouds_yaml(self) -> Path:
        return self.path / "clouds.yaml"

    def clouds(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load(self.clouds_yaml.read_text())["clouds"]
        return loaded

    def stored_hash(self, user: str) -> str:
        db = Database(self.url)
        try:
            found = IdentityRepository(db).user(name=user)
        finally:
            db.dispose()
        assert found is not None, user
        return found.password_hash


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataDir]:
    """A data directory that does not exist yet. On SQLite the command picks its default database file
    inside it; under ``FIREBRICK_TEST_DATABASE_URL`` it gets a fresh PostgreSQL database through
    ``FIREBRICK_DATABASE_URL``, as an operator would configure it."""
    for name in _ENV_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "data"
    urls = database_url(path)
    url = next(urls)
    if not url.startswith("sqlite"):
        monkeypatch.setenv("FIREBRICK_DATABASE_URL", url)
    else:
        assert url == f"sqlite:///{path / 'firebrick.db'}"
    yield DataDir(path, url)
    next(urls, None)


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- db upgrade ----------------------------------------------------------------------------------


def test_db_upgrade_builds_the_schema_in_an_empty_data_dir(data_dir: DataDir) -> None:
    assert not data_dir.path.exists()

    assert main(["--data-dir", str(data_dir.path), "db", "upgrade"]) == 0

    assert data_dir.path.is_dir()
    if data_dir.url.startswith("sqlite"):
        assert (data_dir.path / "firebrick.db").is_file()
    tables = table_names(data_dir.url)
    assert {"volumes", "snapshots", "users", "projects", "alembic_version"} <= tables
    # Only the schema: nobody is bootstrapped and no credentials are written.
    assert not data_dir.clouds_yaml.exists()
    engine = sa.create_engine(data_dir.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


def test_db_upgrade_twice_is_harmless(data_dir: DataDir) -> None:
    assert main(["--data-dir", str(data_dir.path), "db", "upgrade"]) == 0
    before = table_names(data_dir.url)

    assert main(["--data-dir", str(data_dir.path), "db", "upgrade"]) == 0

    assert table_names(data_dir.url) == before


# --- bootstrap -----------------------------------------------------------------------------------


def test_bootstrap_writes_a_private_clouds_yaml_with_both_clouds(
    data_dir: DataDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Characters YAML would misread if the file were written carelessly.
    admin_password, demo_password = 'adm: "quoted" #not-a-comment \\ é', "demo-{pass}: [x]"
    monkeypatch.setenv("FIREBRICK_ADMIN_PASSWORD", admin_password)
    monkeypatch.setenv("FIREBRICK_DEMO_PASSWORD", demo_password)

    assert main(["--data-dir", str(data_dir.path), "bootstrap"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("bootstrapped;")
    assert str(data_dir.clouds_yaml) in out
    assert stat.S_IMODE(data_dir.clouds_yaml.stat().st_mode) == 0o600
    clouds = data_dir.clouds()
    assert set(clouds) == {"firebrick", "firebrick-admin"}
    demo, admin = clouds["firebrick"], clouds["firebrick-admin"]
    assert demo["auth"]["username"] == "demo" and demo["auth"]["project_name"] == "demo"
    assert admin["auth"]["username"] == "admin" and admin["auth"]["project_name"] == "admin"
    assert demo["auth"]["password"] == demo_password
    assert admin["auth"]["password"] == admin_password
    for cloud in (demo, admin):
        assert cloud["auth"]["auth_url"] == "http://127.0.0.1:8780/identity/v3"
        assert cloud["auth"]["user_domain_name"] == cloud["auth"]["project_domain_name"] == "Default"
        assert cloud["region_name"] == "RegionOne"
        assert str(cloud["identity_api_version"]) == "3" and str(cloud["volume_api_version"]) == "3"
    # The passwords in the file are the ones the database accepts, and only hashes are stored.
    assert verify_password(admin_password, data_dir.stored_hash("admin"))
    assert verify_password(demo_password, data_dir.stored_hash("demo"))
    assert demo_password not in data_dir.stored_hash("demo")


def test_second_bootstrap_changes_nothing(
    data_dir: DataDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIREBRICK_ADMIN_PASSWORD", "first-admin")
    monkeypatch.setenv("FIREBRICK_DEMO_PASSWORD", "first-demo")
    assert main(["--data-dir", str(data_dir.path), "bootstrap"]) == 0
    capsys.readouterr()
    content, mtime = data_dir.clouds_yaml.read_bytes(), data_dir.clouds_yaml.stat().st_mtime_ns
    admin_hash = data_dir.stored_hash("admin")
    time.sleep(0.01)
    monkeypatch.setenv("FIREBRICK_ADMIN_PASSWORD", "second-admin")
    monkeypatch.setenv("FIREBRICK_DEMO_PASSWORD", "second-demo")

    assert main(["--data-dir", str(data_dir.path), "bootstrap"]) == 0

    assert capsys.readouterr().out.startswith("already bootstrapped;")
    assert data_dir.clouds_yaml.read_bytes() == content
    assert data_dir.clouds_yaml.stat().st_mtime_ns == mtime
    assert data_dir.stored_hash("admin") == admin_hash
    assert verify_password("first-admin", admin_hash)
    assert not verify_password("second-admin", data_dir.stored_hash("admin"))


def test_bootstrap_without_passwords_makes_strong_ones_that_work(
    data_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data_dir.path), "bootstrap"]) == 0

    clouds = data_dir.clouds()
    admin_password = clouds["firebrick-admin"]["auth"]["password"]
    demo_password = clouds["firebrick"]["auth"]["password"]
    assert len(admin_password) >= 16 and len(demo_password) >= 16 and admin_password != demo_password
    assert verify_password(admin_password, data_dir.stored_hash("admin"))
    assert verify_password(demo_password, data_dir.stored_hash("demo"))


def test_account_adds_a_user_with_roles_and_is_idempotent(
    data_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(data_dir.path), "account", "--user", "tempest-admin", "--project", "tempest"]
    assert main([*args, "--password", "secret", "--role", "admin", "--role", "service"]) == 0
    assert capsys.readouterr().out.startswith("user tempest-admin (")
    first_hash = data_dir.stored_hash("tempest-admin")
    assert verify_password("secret", first_hash)
    # Again, with another password: the roles are ensured, the password is left alone.
    assert main([*args, "--password", "changed", "--role", "member"]) == 0
    assert data_dir.stored_hash("tempest-admin") == first_hash
    db = Database(data_dir.url)
    try:
        identity = IdentityRepository(db)
        user, project = identity.user(name="tempest-admin"), identity.project(name="tempest")
        assert user is not None and project is not None
        assert set(identity.role_names(user.id, project.id)) == {"admin", "service", "member"}
    finally:
        db.dispose()


# --- serve ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_root(url: str, process: subprocess.Popen[bytes], timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url + "/", timeout=0.5)
        except httpx.TransportError:
            if process.poll() is not None:
                raise AssertionError(f"firebrick serve exited early with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"firebrick serve did not answer within {timeout} s") from None
            time.sleep(0.02)


def test_serve_answers_quickly_writes_clouds_yaml_and_stops_cleanly_on_sigterm(
    data_dir: DataDir, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in _ENV_SETTINGS or k == "FIREBRICK_DATABASE_URL"}
    command = [sys.executable, "-m", "firebrick", "serve", "--data-dir", str(data_dir.path), "--port", str(port)]

    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
        try:
            root = _wait_for_root(url, process, timeout=30)
            elapsed = time.monotonic() - started
            print(f"firebrick serve answered GET / {elapsed:.2f} s after the process started")

            assert root.status_code == 200
            apis = {name: f"{url}/{name}" for name in ("identity", "volume", "compute", "image")}
            assert root.json() == {"name": "firebrick", "apis": apis}
            assert elapsed < 5, f"first answer took {elapsed:.2f} s"

            # First start bootstrapped: the credentials in clouds.yaml get a token from this very process.
            assert stat.S_IMODE(data_dir.clouds_yaml.stat().st_mode) == 0o600
            demo = data_dir.clouds()["firebrick"]
            assert demo["auth"]["auth_url"] == f"{url}/identity/v3"
            auth = demo["auth"]
            user = {"name": auth["username"], "domain": {"name": "Default"}, "password": auth["password"]}
            body = {
                "auth": {
                    "identity": {"methods": ["password"], "password": {"user": user}},
                    "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}},
                }
            }
            assert httpx.post(f"{url}/identity/v3/auth/tokens", json=body).status_code == 201

            process.send_signal(signal.SIGTERM)
            returncode = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    output = log_path.read_text(errors="replace")
    assert returncode == 0, output
    assert "Traceback" not in output, output
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/", timeout=0.5)

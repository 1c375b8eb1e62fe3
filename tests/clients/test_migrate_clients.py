"""Migration and on-demand retype through the stock command-line clients, on a node with a raw and a
qcow2 backend: ``cinder migrate`` (python-cinderclient's shell) and ``openstack volume set --type …
--retype-policy on-demand``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from tests.api.compute._helpers import wait
from tests.api.volume._helpers import create_volume, unique
from tests.clients.test_openstack_cli import openstack_ok
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer, logged_in

pytestmark = pytest.mark.cli

CINDER = Path(sys.executable).parent / "cinder"


@pytest.fixture
def node(server_factory: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    backends = tuple(
        BackendSettings(name=fmt, pool="pool", path=tmp_path / fmt, capacity_gb=20, format=fmt)
        for fmt in ("raw", "qcow2")
    )
    return server_factory(backends=backends)


@pytest.fixture
def admin(node: RunningServer) -> Iterator[ApiClient]:
    with logged_in(node, "admin", ADMIN_PASSWORD, "admin") as client:
        yield client


def _host(node: RunningServer, fmt: str) -> str:
    return next(pool.host for pool in node.node.pools if pool.backend_name == fmt)


def _type(admin: ApiClient, backend: str) -> dict[str, Any]:
    made = admin.volume("POST", "/types", json={"volume_type": {"name": unique(f"on-{backend}")}})
    volume_type: dict[str, Any] = made.json()["volume_type"]
    specs = {"extra_specs": {"volume_backend_name": backend}}
    assert admin.volume("POST", f"/types/{volume_type['id']}/extra_specs", json=specs).status_code == 200
    return volume_type


def _migrated(admin: ApiClient, volume_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.volume("GET", f"/volumes/{volume_id}").json()["volume"]
        return body if body["migration_status"] in ("success", "error") and body["status"] != "retyping" else None

    found: dict[str, Any] = wait(ended, f"migration of {volume_id}", timeout=60)
    return found


def test_cinder_migrate_moves_the_volume(node: RunningServer, admin: ApiClient) -> None:
    volume = create_volume(admin, volume_type=_type(admin, "raw")["id"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {"OS_AUTH_URL": f"{node.url}/identity/v3", "OS_USERNAME": "admin", "OS_PASSWORD": ADMIN_PASSWORD,
            "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_VOLUME_API_VERSION": "3.0"}  # fmt: skip
    command = [str(CINDER), "migrate", "--force-host-copy", "True", volume["id"], _host(node, "qcow2")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    moved = _migrated(admin, volume["id"])
    assert (moved["migration_status"], moved["os-vol-host-attr:host"]) == ("success", _host(node, "qcow2"))


def test_openstack_volume_set_retype_on_demand_moves_the_volume(node: RunningServer, admin: ApiClient) -> None:
    volume = create_volume(admin, volume_type=_type(admin, "raw")["id"])
    qcow2 = _type(admin, "qcow2")
    openstack_ok(node, "volume", "set", "--type", qcow2["name"], "--retype-policy", "on-demand", volume["id"],
                 cloud="firebrick-admin")  # fmt: skip
    done = _migrated(admin, volume["id"])
    assert (done["volume_type"], done["migration_status"]) == (qcow2["name"], "success")
    assert done["os-vol-host-attr:host"] == _host(node, "qcow2")

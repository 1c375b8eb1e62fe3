"""Managing files through unchanged clients: the ``cinder`` command and openstacksdk."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openstack.connection
import pytest

from tests.api.volume._helpers import file_backend, unique
from tests.clients.test_openstack_cli import openstack_json
from tests.clients.test_openstacksdk import WAIT
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:The _compute_attributes method is deprecated:openstack.warnings.RemovedInSDK50Warning",
    "ignore:The 'service_type' parameter is unnecesary:openstack.warnings.RemovedInSDK50Warning",
    "ignore:Support for InfluxDB:openstack.warnings.RemovedInSDK60Warning",
)

CINDER = Path(sys.executable).parent / "cinder"
GiB = 1024**3


@pytest.fixture(scope="module")
def admin_sdk(server: RunningServer) -> Iterator[openstack.connection.Connection]:
    # The listing exists from 3.8, as in Cinder; the SDK asks for it only when told to.
    conn = openstack.connect(
        auth_url=f"{server.url}/identity/v3",
        username="admin",
        password=ADMIN_PASSWORD,
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        block_storage_api_version="3",
        block_storage_default_microversion="3.8",
        load_yaml_config=False,
        load_envvars=False,
    )
    yield conn
    conn.close()


def _drop(server: RunningServer) -> tuple[Path, str]:
    path = file_backend(server).volume_path("x").parent / f"{unique('drop')}.img"
    data = os.urandom(1 << 20)
    with path.open("wb") as stream:
        stream.write(data)
        stream.truncate(GiB)
    return path, hashlib.sha256(data).hexdigest()


def _head_digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.sha256(stream.read(1 << 20)).hexdigest()


def cinder(server: RunningServer, *args: str) -> str:
    """Run the ``cinder`` command as an admin would, with credentials from the environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {
        "OS_AUTH_URL": f"{server.url}/identity/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": ADMIN_PASSWORD,
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_VOLUME_API_VERSION": "3.8",
    }
    done = subprocess.run([str(CINDER), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"cinder {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@pytest.mark.cli
def test_cinder_manageable_list_and_manage(server: RunningServer, admin: ApiClient) -> None:
    path, digest = _drop(server)
    host = server.node.pools[0].host

    listed = cinder(server, "manageable-list", host)
    row = next(line for line in listed.splitlines() if path.name in line)
    assert "| True" in row and "| 1 " in row

    shown = cinder(server, "manage", "--name", "from-cli", "--id-type", "source-name", host, path.name)
    volume_id = next(line.split("|")[2].strip() for line in shown.splitlines() if line.startswith("| id "))
    volume = admin.wait_volume(volume_id, "available", "error")

    assert (volume["status"], volume["size"], volume["name"]) == ("available", 1, "from-cli")
    assert _head_digest(file_backend(server).volume_path(volume_id)) == digest
    assert admin.volume("DELETE", f"/volumes/{volume_id}").status_code == 202


def test_openstacksdk_lists_manages_and_unmanages(
    server: RunningServer, admin_sdk: openstack.connection.Connection
) -> None:
    path, digest = _drop(server)
    host = server.node.pools[0].host

    found = {m.reference["source-name"]: m for m in admin_sdk.block_storage.manageable_volumes(details=True, host=host)}
    assert (found[path.name].size, found[path.name].safe_to_manage) == (1, True)
    assert found[path.name].extra_info["format"] == "raw"

    volume = admin_sdk.block_storage.manage_volume(host=host, ref={"source-name": path.name}, name="from-sdk")
    volume = admin_sdk.block_storage.wait_for_status(volume, "available", **WAIT)
    assert (volume.size, volume.name) == (1, "from-sdk")
    adopted = file_backend(server).volume_path(volume.id)
    assert _head_digest(adopted) == digest

    admin_sdk.block_storage.unmanage_volume(volume)
    admin_sdk.block_storage.wait_for_delete(volume, **WAIT)
    again = {m.reference["source-name"]: m for m in admin_sdk.block_storage.manageable_volumes(details=True, host=host)}
    assert again[adopted.name].safe_to_manage is True and again[adopted.name].cinder_id is None
    assert _head_digest(adopted) == digest
    adopted.unlink()


@pytest.mark.cli
def test_the_openstack_command_lists_and_manages(server: RunningServer, admin: ApiClient) -> None:
    path, digest = _drop(server)
    host = server.node.pools[0].host
    admin_cloud = {"cloud": "firebrick-admin"}

    listing = ("--os-volume-api-version", "3.8", "block", "storage", "volume", "manageable", "list", host)
    rows = openstack_json(server, *listing, **admin_cloud)
    assert {"reference": {"source-name": path.name}, "size": 1, "safe_to_manage": True} in [
        {key: row[key] for key in ("reference", "size", "safe_to_manage")} for row in rows
    ]

    name = unique("cli-managed")
    created = openstack_json(
        server, "volume", "create", "--remote-source", f"source-name={path.name}", "--host", host, name, **admin_cloud
    )
    volume = admin.wait_volume(created["id"], "available", "error")
    assert (volume["status"], volume["size"], volume["name"]) == ("available", 1, name)
    assert _head_digest(file_backend(server).volume_path(created["id"])) == digest
    assert admin.volume("DELETE", f"/volumes/{created['id']}").status_code == 202

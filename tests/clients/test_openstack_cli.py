"""The stock ``openstack`` command against firebrick, with the ``clouds.yaml`` the server wrote.

Each command is a fresh process (about 1.5 s), so there are few of them: the flow a user follows
(``volume create``, ``list``, ``show``, ``set``, ``snapshot create/list/delete``, ``volume delete``),
and an admin's ``volume type`` and ``volume service list``. Waiting for a status goes through raw HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from firebrick.storage import FileBackend
from tests.conftest import ApiClient, RunningServer

pytestmark = pytest.mark.cli

OPENSTACK = Path(sys.executable).parent / "openstack"


def openstack(server: RunningServer, *args: str, cloud: str = "firebrick") -> subprocess.CompletedProcess[str]:
    """Run one ``openstack`` command as a user would, with only the cloud config from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {"OS_CLIENT_CONFIG_FILE": str(server.settings.data_dir / "clouds.yaml"), "OS_CLOUD": cloud}
    return subprocess.run([str(OPENSTACK), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def openstack_ok(server: RunningServer, *args: str, cloud: str = "firebrick") -> str:
    done = openstack(server, *args, cloud=cloud)
    assert done.returncode == 0, f"openstack {' '.join(args)} failed:\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def openstack_json(server: RunningServer, *args: str, cloud: str = "firebrick") -> Any:
    return json.loads(openstack_ok(server, *args, "-f", "json", cloud=cloud))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def driver(server: RunningServer) -> FileBackend:
    backend = server.node.pools[0].driver
    assert isinstance(backend, FileBackend)
    return backend


def test_the_openstack_command_is_installed() -> None:
    assert OPENSTACK.is_file() and os.access(OPENSTACK, os.X_OK)


def test_volume_flow_as_a_member(server: RunningServer, demo: ApiClient) -> None:
    name, renamed, snap_name = unique("cli-v"), unique("cli-v2"), unique("cli-s")

    created = openstack_json(server, "volume", "create", "--size", "1", name)
    assert (created["name"], created["size"]) == (name, 1)
    assert created["status"] in ("creating", "available")
    volume_id = created["id"]
    try:
        demo.wait_volume(volume_id, "available")
        assert driver(server).volume_path(volume_id).is_file()

        listed = {row["ID"]: row for row in openstack_json(server, "volume", "list")}
        assert listed[volume_id]["Name"] == name
        assert listed[volume_id]["Status"] == "available"
        assert listed[volume_id]["Size"] == 1

        openstack_ok(
            server,
            "volume",
            "set",
            "--name",
            renamed,
            "--description",
            "set by cli",
            "--property",
            "tier=gold",
            "--property",
            "owner=cli",
            name,
        )
        shown = openstack_json(server, "volume", "show", renamed)
        assert shown["id"] == volume_id and shown["name"] == renamed
        assert shown["status"] == "available" and shown["size"] == 1
        assert shown["description"] == "set by cli"
        assert shown["properties"] == {"tier": "gold", "owner": "cli"}
        assert shown["availability_zone"] == server.settings.availability_zone
        assert shown["os-vol-tenant-attr:tenant_id"] == demo.project_id

        snapshot = openstack_json(server, "volume", "snapshot", "create", "--volume", renamed, snap_name)
        assert (snapshot["name"], snapshot["volume_id"], snapshot["size"]) == (snap_name, volume_id, 1)
        demo.wait_snapshot(snapshot["id"], "available")
        assert driver(server).snapshot_path(snapshot["id"]).is_file()
        snapshots = {row["ID"]: row for row in openstack_json(server, "volume", "snapshot", "list")}
        assert snapshots[snapshot["id"]]["Name"] == snap_name
        assert snapshots[snapshot["id"]]["Status"] == "available"

        openstack_ok(server, "volume", "snapshot", "delete", snap_name)
        demo.wait_gone(f"/snapshots/{snapshot['id']}")
        assert not driver(server).snapshot_path(snapshot["id"]).exists()

        openstack_ok(server, "volume", "delete", renamed)
        demo.wait_gone(f"/volumes/{volume_id}")
        assert not driver(server).volume_path(volume_id).exists()
    finally:
        if demo.volume("GET", f"/volumes/{volume_id}").status_code == 200:
            demo.volume("DELETE", f"/volumes/{volume_id}?cascade=true")


def test_admin_types_and_services(server: RunningServer, admin: ApiClient) -> None:
    name = unique("cli-type")

    created = openstack_json(
        server, "volume", "type", "create", "--description", "from the cli", name, cloud="firebrick-admin"
    )
    try:
        assert (created["name"], created["description"], created["is_public"]) == (name, "from the cli", True)
        assert admin.volume("GET", f"/types/{created['id']}").json()["volume_type"]["name"] == name
    finally:
        openstack_ok(server, "volume", "type", "delete", name, cloud="firebrick-admin")
    assert admin.volume("GET", f"/types/{created['id']}").status_code == 404

    services = openstack_json(server, "volume", "service", "list", cloud="firebrick-admin")
    by_binary = {row["Binary"]: row for row in services}
    assert by_binary["cinder-volume"]["State"] == "up"
    assert by_binary["cinder-volume"]["Status"] == "enabled"
    assert by_binary["cinder-volume"]["Host"] == server.node.pools[0].host.split("#")[0]
    assert by_binary["cinder-volume"]["Zone"] == server.settings.availability_zone


def test_member_cannot_create_a_type(server: RunningServer, admin: ApiClient) -> None:
    name = unique("cli-forbidden")

    done = openstack(server, "volume", "type", "create", name)

    assert done.returncode != 0
    assert "403" in done.stderr and "volume_extension:types_manage" in done.stderr
    assert name not in {t["name"] for t in admin.volume("GET", "/types").json()["volume_types"]}

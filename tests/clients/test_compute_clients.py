"""The compute side through unchanged clients: python-novaclient, openstacksdk, and the ``openstack`` CLI,
against real QEMU guests (one firebrick for the module; each test boots its own server).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from tests.api.compute._helpers import public_image, qemu_node
from tests.clients.test_cinderclient import Cinder, keystone_session
from tests.clients.test_openstack_cli import openstack_json, openstack_ok
from tests.clients.test_openstacksdk import connect as sdk_connect
from tests.clients.test_openstacksdk import pytestmark as sdk_marks
from tests.conftest import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    ApiClient,
    RunningServer,
    api_client,
)

SDK_WARNINGS = sdk_marks.args


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """This module's own firebrick, with the QEMU hypervisor (shadowing the session's fake one)."""
    with qemu_node(tmp_path_factory.mktemp("clients-guests")) as running:
        yield running


@pytest.fixture(scope="module")
def demo(server: RunningServer) -> Iterator[ApiClient]:
    client = api_client(server, "demo", DEMO_PASSWORD, "demo")
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def image(server: RunningServer) -> str:
    admin = api_client(server, "admin", ADMIN_PASSWORD, "admin")
    try:
        return public_image(admin)
    finally:
        admin.http.close()


@pytest.fixture(scope="module")
def nova(server: RunningServer) -> Iterator[Any]:
    sess = keystone_session(server, "demo", DEMO_PASSWORD, "demo")
    yield nova_client.Client("2.89", session=sess)
    sess.session.close()


@pytest.fixture(scope="module")
def cinder(server: RunningServer) -> Iterator[Cinder]:
    sess = keystone_session(server, "demo", DEMO_PASSWORD, "demo")
    yield Cinder(sess, "3.44")
    sess.session.close()


def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def test_novaclient_attach_list_detach(nova: Any, cinder: Cinder, image: str) -> None:
    created = nova.servers.create("nc-guest", image, "1", nics="none")
    _until(lambda: nova.servers.get(created.id).status == "ACTIVE")
    volume = cinder.available_volume()
    try:
        attachment = nova.volumes.create_server_volume(created.id, volume.id, delete_on_termination=False)
        assert attachment.device == "/dev/vdb"
        cinder.wait(cinder.client.volumes, volume.id, "in-use")
        [listed] = nova.volumes.get_server_volumes(created.id)
        assert listed.volumeId == volume.id and listed.attachment_id and listed.bdm_uuid
        with pytest.raises(nova_exceptions.BadRequest):
            nova.volumes.create_server_volume(created.id, volume.id)
        nova.volumes.delete_server_volume(created.id, volume.id)
        cinder.wait(cinder.client.volumes, volume.id, "available")
        actions = [a.action for a in nova.instance_action.list(created.id)]
        assert actions == ["detach_volume", "attach_volume", "create"]
    finally:
        nova.servers.delete(created.id)
        _until(lambda: not [s for s in nova.servers.list() if s.id == created.id])
        cinder.delete_volume(volume.id)


@pytest.mark.filterwarnings(*SDK_WARNINGS)
def test_openstacksdk_server_and_volume_attachment(server: RunningServer, image: str) -> None:
    conn = sdk_connect(server, "demo", DEMO_PASSWORD, "demo")
    try:
        made = conn.compute.create_server(name="sdk-guest", image_id=image, flavor_id="1", networks="none")
        guest = conn.compute.wait_for_server(made, status="ACTIVE", wait=60, interval=0.2)
        volume = conn.block_storage.wait_for_status(
            conn.block_storage.create_volume(size=1), status="available", wait=60, interval=0.2
        )
        conn.compute.create_volume_attachment(guest, volume)
        conn.block_storage.wait_for_status(volume, status="in-use", wait=60, interval=0.2)
        [attached] = list(conn.compute.volume_attachments(guest))
        assert attached.volume_id == volume.id
        conn.compute.delete_volume_attachment(guest, volume)
        conn.block_storage.wait_for_status(volume, status="available", wait=60, interval=0.2)
        conn.compute.delete_server(guest)
        conn.compute.wait_for_delete(guest, wait=60, interval=0.2)
        conn.block_storage.delete_volume(volume)
    finally:
        conn.close()


@pytest.mark.cli
def test_openstack_server_add_volume_and_volume_set_size(server: RunningServer, demo: ApiClient, image: str) -> None:
    made = openstack_json(server, "server", "create", "--image", image, "--flavor", "1", "--wait", "cli-guest")
    console = openstack_ok(server, "console", "log", "show", made["id"])
    assert "GUEST-READY" in console.splitlines()
    assert made["status"] == "ACTIVE"
    volume = openstack_json(server, "volume", "create", "--size", "1", "cli-data")
    _until(lambda: demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available")
    openstack_ok(server, "server", "add", "volume", made["id"], volume["id"])
    _until(lambda: demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "in-use")
    openstack_ok(server, "--os-volume-api-version", "3.42", "volume", "set", "--size", "2", volume["id"])
    _until(lambda: demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["size"] == 2)
    _until(lambda: demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "in-use")
    console = openstack_ok(server, "console", "log", "show", made["id"])
    assert f"DISK {volume['id'][:20]} {2 * 1024**3}" in console
    openstack_ok(server, "server", "remove", "volume", made["id"], volume["id"])
    _until(lambda: demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available")
    openstack_ok(server, "server", "delete", "--wait", made["id"])
    openstack_ok(server, "volume", "delete", volume["id"])

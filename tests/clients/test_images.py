"""Images through the stock clients: the ``openstack`` CLI (image create --file, save, volume from image,
image from volume), openstacksdk's image proxy, and python-cinderclient's upload-to-image."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from openstack import exceptions

from tests.api.image._helpers import wait_image
from tests.clients.test_cinderclient import Cinder, keystone_session
from tests.clients.test_openstack_cli import driver, openstack_json, openstack_ok, unique
from tests.clients.test_openstacksdk import connect
from tests.clients.test_openstacksdk import pytestmark as sdk_warnings
from tests.conftest import DEMO_PASSWORD, ApiClient, RunningServer

MiB = 1024**2


@pytest.mark.cli
def test_image_create_file_save_and_a_volume_from_it(server: RunningServer, demo: ApiClient, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 11)
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    name = unique("cli-img")
    created = openstack_json(
        server, "image", "create", "--file", str(source), "--disk-format", "raw", "--container-format", "bare",
        "--property", "os_distro=cirros", name,
    )  # fmt: skip
    assert (created["name"], created["status"], created["size"]) == (name, "active", len(data))
    assert created["checksum"] == hashlib.md5(data).hexdigest()
    assert {row["Name"] for row in openstack_json(server, "image", "list")} >= {name}

    saved = tmp_path / "saved.raw"
    openstack_ok(server, "image", "save", "--file", str(saved), name)
    assert saved.read_bytes() == data

    volume = openstack_json(server, "volume", "create", "--image", name, "--size", "1", unique("cli-v"))
    shown = demo.wait_volume(volume["id"], "available", "error")
    assert (shown["status"], shown["bootable"]) == ("available", "true")
    with driver(server).volume_path(volume["id"]).open("rb") as stream:
        assert stream.read(len(data)) == data

    uploaded = openstack_json(
        server, "image", "create", "--volume", volume["id"], "--disk-format", "qcow2", unique("cli-up")
    )
    assert uploaded["id"] == volume["id"]  # the CLI shows Cinder's answer: the volume, and the image's id
    image = wait_image(demo, uploaded["image_id"], "active")
    assert image["disk_format"] == "qcow2" and image["os_distro"] == "cirros"  # carried over from the volume
    demo.wait_volume(volume["id"], "available")
    openstack_ok(server, "image", "delete", name, uploaded["image_id"])
    openstack_ok(server, "volume", "delete", volume["id"])


@sdk_warnings
def test_openstacksdk_creates_downloads_and_makes_volumes_from_images(server: RunningServer, demo: ApiClient) -> None:
    conn = connect(server, "demo", DEMO_PASSWORD, "demo")
    try:
        data = os.urandom(MiB)
        image = conn.image.create_image(
            name=unique("sdk-img"), data=data, disk_format="raw", container_format="bare", allow_duplicates=True,
        )
        assert conn.image.get_image(image.id).status == "active"
        assert conn.image.download_image(image.id).content == data  # the sdk checks the digests too
        volume = conn.block_storage.create_volume(size=1, image_id=image.id, name=unique("sdk-v"))
        volume = conn.block_storage.wait_for_status(volume, "available", failures=["error"], wait=30, interval=0.05)
        assert volume.is_bootable and volume.volume_image_metadata["image_id"] == image.id
        conn.block_storage.delete_volume(volume)
        conn.block_storage.wait_for_delete(volume, wait=30, interval=0.05)
        conn.image.delete_image(image)
        with pytest.raises(exceptions.NotFoundException):
            conn.image.get_image(image.id)
    finally:
        conn.close()


def test_cinderclient_uploads_a_volume_to_an_image(server: RunningServer, demo: ApiClient) -> None:
    sess = keystone_session(server, "demo", DEMO_PASSWORD, "demo")
    try:
        cinder = Cinder(sess, "3.1")
        volume = cinder.available_volume()
        volumes = cinder.client.volumes
        _, body = volumes.upload_to_image(volume, False, unique("cc-img"), "bare", "vmdk", "private", True)
        result = body["os-volume_upload_image"]
        assert (result["disk_format"], result["visibility"], result["protected"]) == ("vmdk", "private", True)
        image = wait_image(demo, result["image_id"], "active")
        assert image["protected"] is True and image["virtual_size"] == 1024**3
        cinder.wait(cinder.client.volumes, volume.id, "available")
        cinder.delete_volume(volume.id)
    finally:
        sess.session.close()

"""``POST /volumes`` with ``imageRef``: the volume holds the image's bytes, and says where they came from."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.api.image._helpers import create_image, image_call, upload, wait_image
from tests.api.volume._helpers import MISSING_ID, create_volume, fault, file_backend, fresh_member, unique
from tests.conftest import ApiClient, RunningServer

GiB = 1024**3


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def _active_image(client: ApiClient, data: bytes, **fields: object) -> dict[str, object]:
    image = create_image(client, **fields)
    upload(client, str(image["id"]), data)
    return wait_image(client, str(image["id"]), "active")


def _create(client: ApiClient, **fields: object) -> httpx.Response:
    return client.volume("POST", "/volumes", json={"volume": {"name": unique("vol"), **fields}})


def test_a_volume_from_a_raw_image_holds_its_bytes_and_records_it(server: RunningServer, member: ApiClient) -> None:
    data = os.urandom(1024 * 1024 + 5)
    image = _active_image(member, data, name="boot", min_ram=128, os_distro="cirros")
    volume = create_volume(member, size=1, imageRef=image["id"])
    shown = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["bootable"] == "true"
    assert shown["volume_image_metadata"] == {
        "image_id": image["id"], "image_name": "boot", "checksum": image["checksum"], "container_format": "bare",
        "disk_format": "raw", "min_disk": "0", "min_ram": "128", "size": str(len(data)), "os_distro": "cirros",
    }  # fmt: skip
    path = file_backend(server).volume_path(volume["id"])
    assert path.stat().st_size == GiB
    with path.open("rb") as stream:
        assert stream.read(len(data)) == data and stream.read(4096) == bytes(4096)


def test_an_upload_and_a_create_from_it_round_trip(server: RunningServer, member: ApiClient) -> None:
    source = create_volume(member, size=1)
    source_path = file_backend(server).volume_path(source["id"])
    with source_path.open("r+b") as stream:
        stream.seek(700 * 1024 * 1024)
        stream.write(b"round trip" * 1000)
    body = {"os-volume_upload_image": {"image_name": unique("rt"), "disk_format": "qcow2"}}
    response = member.volume("POST", f"/volumes/{source['id']}/action", json=body)
    image = wait_image(member, response.json()["os-volume_upload_image"]["image_id"], "active")
    member.wait_volume(source["id"], "available")
    copy = create_volume(member, size=2, imageRef=image["id"])
    copy_path = file_backend(server).volume_path(copy["id"])
    assert copy_path.stat().st_size == 2 * GiB
    with source_path.open("rb") as a, copy_path.open("rb") as b:
        a.seek(700 * 1024 * 1024)
        b.seek(700 * 1024 * 1024)
        assert a.read(16384) == b.read(16384)


def test_the_size_may_be_left_to_the_image(member: ApiClient) -> None:
    image = _active_image(member, b"x" * 100, min_disk=2)
    response = _create(member, imageRef=image["id"])
    assert response.status_code == 202, response.text
    assert response.json()["volume"]["size"] == 2
    member.wait_volume(response.json()["volume"]["id"], "available")


def test_a_deactivated_image_is_refused(member: ApiClient, admin: ApiClient) -> None:
    image = _active_image(member, b"x")
    assert image_call(admin, "POST", f"/images/{image['id']}/actions/deactivate").status_code == 204
    message = fault(_create(member, size=1, imageRef=image["id"]), 400)
    assert message == f"Invalid input received: Image {image['id']} is not active."


def test_an_image_larger_than_the_volume_is_refused(member: ApiClient) -> None:
    image = _active_image(member, b"x", min_disk=3)
    message = fault(_create(member, size=1, imageRef=image["id"]), 400)
    assert message == "Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 3GB."


def test_an_unknown_or_invisible_image_is_an_invalid_reference(member: ApiClient, other: ApiClient) -> None:
    private = _active_image(member, b"x", visibility="private")
    for client, ref in ((member, MISSING_ID), (member, "no-such-name"), (other, private["id"])):
        message = fault(_create(client, size=1, imageRef=ref), 400)
        assert message == "Invalid image identifier or unable to access requested image."

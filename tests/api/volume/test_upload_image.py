"""``os-volume_upload_image``: the volume's bytes become an image, in the format asked for (§2.12)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.image._helpers import image_call, sparse_sha256, wait_image
from tests.api.volume._helpers import MISSING_ID, create_volume, fault, file_backend, fresh_member, unique
from tests.conftest import ApiClient, RunningServer

GiB = 1024**3
MiB = 1024**2
OFFSETS = (0, 300 * MiB + 512, GiB - 8192)


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def _upload(client: ApiClient, volume_id: str, version: str | None = None, **fields: Any) -> Any:
    body = {"os-volume_upload_image": {"image_name": unique("up"), **fields}}
    return client.volume("POST", f"/volumes/{volume_id}/action", version=version, json=body)


def _write_known_bytes(path: Path) -> None:
    with path.open("r+b") as stream:
        for offset in OFFSETS:
            stream.seek(offset)
            stream.write(hashlib.sha512(str(offset).encode()).digest() * 128)


def _download(client: ApiClient, image_id: str, target: Path) -> str:
    """Save the image's data to ``target``; returns the md5 of what came over the wire."""
    digest = hashlib.md5()
    with client.http.stream("GET", f"/image/v2/images/{image_id}/file") as response, target.open("wb") as out:
        assert response.status_code == 200
        for chunk in response.iter_bytes(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _download_equals(client: ApiClient, image_id: str, expected: Path) -> str:
    """Compare the image's data, as it arrives, with ``expected`` byte for byte; returns its md5.

    (A 1 GiB raw image written out densely, then read back, costs the test far more time.)
    """
    digest = hashlib.md5()
    offset = 0
    with client.http.stream("GET", f"/image/v2/images/{image_id}/file") as response, expected.open("rb") as want:
        assert response.status_code == 200
        for chunk in response.iter_bytes(4 * MiB):
            digest.update(chunk)
            assert want.read(len(chunk)) == chunk, f"bytes differ within [{offset}, {offset + len(chunk)})"
            offset += len(chunk)
        assert want.read(1) == b"", "the image is shorter than the volume"
    return digest.hexdigest()


@pytest.mark.parametrize(("disk_format", "qemu_format"), [("raw", "raw"), ("qcow2", "qcow2"), ("vmdk", "vmdk")])
def test_the_image_converts_back_to_the_volumes_bytes(
    server: RunningServer, member: ApiClient, tmp_path: Path, disk_format: str, qemu_format: str
) -> None:
    volume = create_volume(member, size=1)
    volume_file = file_backend(server).volume_path(volume["id"])
    _write_known_bytes(volume_file)
    response = _upload(member, volume["id"], disk_format=disk_format)
    assert response.status_code == 202, response.text
    image = wait_image(member, response.json()["os-volume_upload_image"]["image_id"], "active", "gone")
    assert member.wait_volume(volume["id"], "available", "error")["status"] == "available"
    assert (image["status"], image["disk_format"], image["container_format"]) == ("active", disk_format, "bare")
    assert image["virtual_size"] == GiB
    if disk_format == "raw":  # the image is the volume's bytes themselves
        assert _download_equals(member, image["id"], volume_file) == image["checksum"]
        return
    downloaded = tmp_path / f"image.{disk_format}"
    assert _download(member, image["id"], downloaded) == image["checksum"]
    assert downloaded.stat().st_size == image["size"] < 64 * MiB  # holes cost nothing
    back = tmp_path / "back.raw"
    subprocess.run(["qemu-img", "convert", "-f", qemu_format, "-O", "raw", downloaded, back], check=True)
    assert back.stat().st_size == GiB and sparse_sha256(back) == sparse_sha256(volume_file)


def test_the_202_body_describes_volume_and_image(member: ApiClient) -> None:
    volume = create_volume(member, size=1, description="d")
    response = _upload(member, volume["id"], version="3.1", disk_format="qcow2", visibility="shared", protected=True)
    assert response.status_code == 202, response.text
    body = response.json()["os-volume_upload_image"]
    assert set(body) == {
        "id", "updated_at", "status", "display_description", "size", "volume_type", "image_id", "container_format",
        "disk_format", "image_name", "protected", "visibility",
    }  # fmt: skip
    assert (body["id"], body["status"], body["display_description"]) == (volume["id"], "uploading", "d")
    assert body["size"] == 1
    assert body["volume_type"]["name"] == volume["volume_type"]
    assert (body["disk_format"], body["container_format"], body["protected"], body["visibility"]) == (
        "qcow2", "bare", True, "shared",
    )  # fmt: skip
    image = wait_image(member, body["image_id"], "active")
    assert (image["name"], image["protected"], image["visibility"]) == (body["image_name"], True, "shared")
    member.wait_volume(volume["id"], "available")


def test_visibility_and_protected_are_unknown_below_3_1(member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    for extra in ({"visibility": "private"}, {"protected": True}, {"bogus": 1}):
        message = fault(_upload(member, volume["id"], **extra), 400)
        assert "Additional properties are not allowed" in message
    assert member.wait_volume(volume["id"], "available")["status"] == "available"


@pytest.mark.parametrize(
    "fields",
    [{"disk_format": "iso"}, {"disk_format": "qed"}, {"container_format": "x" * 256}, {"force": "maybe"}],
)
def test_malformed_bodies_are_400(member: ApiClient, fields: dict[str, Any]) -> None:
    volume = create_volume(member, size=1)
    fault(_upload(member, volume["id"], **fields), 400)
    body = {"os-volume_upload_image": {"disk_format": "raw"}}
    fault(member.volume("POST", f"/volumes/{volume['id']}/action", json=body), 400)


def test_a_public_image_needs_upload_public(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    fault(_upload(member, volume["id"], version="3.1", visibility="public"), 403)
    assert member.wait_volume(volume["id"], "available")["status"] == "available"
    mine = create_volume(admin, size=1)
    response = _upload(admin, mine["id"], version="3.1", visibility="public")
    assert response.status_code == 202, response.text
    image = wait_image(admin, response.json()["os-volume_upload_image"]["image_id"], "active")
    assert image["visibility"] == "public"
    admin.wait_volume(mine["id"], "available")


def test_only_an_available_volume_uploads(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    reset = {"os-reset_status": {"status": "error"}}
    assert admin.volume("POST", f"/volumes/{volume['id']}/action", json=reset).status_code == 202
    message = fault(_upload(member, volume["id"], force=True), 400)
    assert message == f"Invalid volume: Volume {volume['id']} status must be available"
    images = image_call(member, "GET", "/images", params={"owner": member.project_id}).json()["images"]
    assert images == []  # nothing was left behind


def test_an_unknown_or_foreign_volume_is_404(member: ApiClient, other: ApiClient) -> None:
    fault(_upload(member, MISSING_ID), 404)
    volume = create_volume(member, size=1)
    fault(_upload(other, volume["id"]), 404)


def test_a_failed_conversion_removes_the_image_and_tells_the_project(server: RunningServer, member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    record = file_backend(server).volume_path(volume["id"]).parent / ".formats" / f"volume-{volume['id']}"
    record.write_text("qcow2")  # the raw file now reads as a broken qcow2: qemu-img will fail
    response = _upload(member, volume["id"])
    assert response.status_code == 202
    image_id = response.json()["os-volume_upload_image"]["image_id"]
    wait_image(member, image_id, "gone")
    assert member.wait_volume(volume["id"], "available")["status"] == "available"
    messages = member.volume("GET", f"/messages?resource_uuid={volume['id']}", version="3.3").json()["messages"]
    assert [m["event_id"] for m in messages] == ["VOLUME_VOLUME_003_004"]
    assert messages[0]["user_message"].startswith("copy volume to image: qemu-img convert failed")
    record.write_text("raw")

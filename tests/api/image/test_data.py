"""``/image/v2/images/{id}/file``: chunked uploads in, streamed downloads out, with Glance's digests."""

from __future__ import annotations

import hashlib
import os

from tests.api.image._helpers import OCTETS, chunked, create_image, glance_fault, image_call, upload
from tests.conftest import ApiClient


def test_a_chunked_upload_then_a_download_round_trips_with_digests(demo: ApiClient) -> None:
    data = os.urandom(5 * 1024 * 1024 + 3)
    image = create_image(demo)
    upload(demo, image["id"], data)  # httpx sends a generator body with Transfer-Encoding: chunked
    shown = image_call(demo, "GET", f"/images/{image['id']}").json()
    assert (shown["status"], shown["size"], shown["virtual_size"]) == ("active", len(data), len(data))
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert (shown["os_hash_algo"], shown["os_hash_value"]) == ("sha512", hashlib.sha512(data).hexdigest())
    with demo.http.stream("GET", f"/image/v2/images/{image['id']}/file") as response:
        assert response.status_code == 200
        assert response.headers["content-md5"] == shown["checksum"]
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["content-type"] == "application/octet-stream"
        assert b"".join(response.iter_bytes()) == data


def test_a_sized_upload_works_too(demo: ApiClient) -> None:
    image = create_image(demo)
    response = image_call(demo, "PUT", f"/images/{image['id']}/file", content=b"x" * 1024, headers=OCTETS)
    assert response.status_code == 204
    assert image_call(demo, "GET", f"/images/{image['id']}").json()["size"] == 1024


def test_data_goes_in_once_and_only_as_octets(demo: ApiClient) -> None:
    image = create_image(demo)
    path = f"/images/{image['id']}/file"
    assert image_call(demo, "GET", path).status_code == 204  # no data yet
    glance_fault(image_call(demo, "PUT", path, content=b"x", headers={"Content-Type": "text/plain"}), 415)
    upload(demo, image["id"], b"first")
    message = glance_fault(image_call(demo, "PUT", path, content=chunked(b"second"), headers=OCTETS), 409)
    assert message == "Image status transition from active to saving is not allowed"
    assert image_call(demo, "GET", path).content == b"first"


def test_formats_come_before_data(demo: ApiClient) -> None:
    image = image_call(demo, "POST", "/images", json={"name": "bare"}).json()
    response = image_call(demo, "PUT", f"/images/{image['id']}/file", content=b"x", headers=OCTETS)
    assert "must be set prior to saving data" in glance_fault(response, 400)


def test_another_projects_private_image_is_not_found_for_data(demo: ApiClient, other: ApiClient) -> None:
    image = create_image(demo, visibility="private")
    glance_fault(image_call(other, "PUT", f"/images/{image['id']}/file", content=b"x", headers=OCTETS), 404)
    glance_fault(image_call(other, "GET", f"/images/{image['id']}/file"), 404)

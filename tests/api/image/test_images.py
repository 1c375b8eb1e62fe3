"""``/image/v2/images``: the record, as Glance and its clients see it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.image._helpers import PATCH, create_image, glance_fault, image_call, unique, upload
from tests.api.volume._helpers import fresh_member
from tests.conftest import ApiClient, RunningServer

KEYS = {
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "disk_format", "container_format",
    "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "tags",
    "created_at", "updated_at", "self", "file", "schema",
}  # fmt: skip


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def test_create_answers_201_with_a_queued_image(server: RunningServer, member: ApiClient) -> None:
    response = image_call(member, "POST", "/images", json={
        "name": "cirros", "disk_format": "qcow2", "container_format": "bare", "min_disk": 1, "tags": ["a"],
        "hw_disk_bus": "virtio",
    })  # fmt: skip
    assert response.status_code == 201, response.text
    image = response.json()
    assert set(image) == KEYS | {"hw_disk_bus"}
    assert (image["status"], image["visibility"], image["owner"]) == ("queued", "shared", member.project_id)
    assert (image["size"], image["checksum"], image["min_disk"], image["tags"]) == (None, None, 1, ["a"])
    assert image["self"] == f"/v2/images/{image['id']}" and image["file"] == f"/v2/images/{image['id']}/file"
    assert image["created_at"].endswith("Z") and image["hw_disk_bus"] == "virtio"
    assert response.headers["location"] == f"{server.url}/image/v2/images/{image['id']}"
    assert image_call(member, "GET", f"/images/{image['id']}").json() == image


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "active"}, 403),
        ({"size": 5}, 403),
        ({"deleted": "true"}, 403),
        ({"disk_format": "floppy"}, 400),
        ({"min_disk": -1}, 400),
        ({"custom": 5}, 400),
        ({"visibility": "everyone"}, 400),
        ({"visibility": "public"}, 403),  # publicize_image is admin-only
    ],
)
def test_create_refusals(member: ApiClient, body: dict[str, object], status: int) -> None:
    glance_fault(image_call(member, "POST", "/images", json=body), status)


def test_visibility_decides_who_sees_an_image(member: ApiClient, other: ApiClient, admin: ApiClient) -> None:
    private = create_image(member, visibility="private")
    community = create_image(member, visibility="community")
    public = create_image(admin, visibility="public")
    message = glance_fault(image_call(other, "GET", f"/images/{private['id']}"), 404)
    assert message == f"No image found with ID {private['id']}"
    assert image_call(other, "GET", f"/images/{community['id']}").status_code == 200
    listed = {i["id"] for i in image_call(other, "GET", "/images", params={"limit": 1000}).json()["images"]}
    assert public["id"] in listed and not {private["id"], community["id"]} & listed
    assert image_call(admin, "GET", f"/images/{private['id']}").status_code == 200


def test_listing_pages_with_limit_marker_and_next(member: ApiClient) -> None:
    made = [create_image(member, name="pager")["id"] for _ in range(3)]
    first = image_call(member, "GET", "/images", params={"name": "pager", "limit": 2}).json()
    assert [i["id"] for i in first["images"]] == made[::-1][:2]
    assert first["schema"] == "/v2/schemas/images" and first["next"].startswith("/v2/images?")
    rest = member.http.get("/image" + first["next"]).json()
    assert [i["id"] for i in rest["images"]] == made[:1] and "next" not in rest
    by_status = image_call(member, "GET", "/images", params={"status": "active", "name": "pager"}).json()
    assert by_status["images"] == []
    glance_fault(image_call(member, "GET", "/images", params={"sort_key": "bogus"}), 400)
    glance_fault(image_call(member, "GET", "/images", params={"marker": "nope"}), 400)


def test_patch_changes_core_and_custom_attributes(member: ApiClient) -> None:
    image = create_image(member, old="1")
    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/min_ram", "value": 512},
        {"op": "add", "path": "/tags", "value": ["x"]},
        {"op": "add", "path": "/new", "value": "2"},
        {"op": "remove", "path": "/old"},
        {"op": "replace", "path": "/visibility", "value": "community"},
    ]
    response = image_call(member, "PATCH", f"/images/{image['id']}", json=ops, headers=PATCH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["min_ram"], body["tags"], body["new"], body["visibility"]) == (
        "renamed", 512, ["x"], "2", "community",
    )  # fmt: skip
    assert "old" not in body


@pytest.mark.parametrize(
    ("ops", "status"),
    [
        ([{"op": "replace", "path": "/status", "value": "active"}], 403),
        ([{"op": "remove", "path": "/name"}], 403),
        ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
        ([{"op": "move", "path": "/name", "value": "x"}], 400),
        ([{"op": "replace", "path": "/a/b", "value": "x"}], 400),
        ([{"op": "replace", "path": "/name"}], 400),
        ([{"op": "replace", "path": "/min_disk", "value": "big"}], 400),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403),
        ({"op": "replace"}, 400),
    ],
)
def test_patch_refusals(member: ApiClient, ops: object, status: int) -> None:
    image = create_image(member)
    glance_fault(image_call(member, "PATCH", f"/images/{image['id']}", json=ops, headers=PATCH), status)


def test_patch_needs_the_patch_media_type(member: ApiClient) -> None:
    image = create_image(member)
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    glance_fault(image_call(member, "PATCH", f"/images/{image['id']}", json=ops), 415)
    v20 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
    assert image_call(member, "PATCH", f"/images/{image['id']}", json=ops, headers=v20).status_code == 200


def test_another_project_may_read_a_public_image_but_not_change_it(
    member: ApiClient, admin: ApiClient, other: ApiClient
) -> None:
    public = create_image(admin, visibility="public")
    ops = [{"op": "replace", "path": "/name", "value": "mine"}]
    glance_fault(image_call(other, "PATCH", f"/images/{public['id']}", json=ops, headers=PATCH), 403)
    glance_fault(image_call(other, "DELETE", f"/images/{public['id']}"), 403)
    assert image_call(admin, "DELETE", f"/images/{public['id']}").status_code == 204


def test_delete_answers_204_and_spares_protected_images(server: RunningServer, member: ApiClient) -> None:
    image = create_image(member)
    upload(member, image["id"], b"data")
    path = server.node.ports.image_service().files.path(image["id"])
    assert path.is_file()
    assert image_call(member, "DELETE", f"/images/{image['id']}").status_code == 204
    assert not path.exists()
    glance_fault(image_call(member, "GET", f"/images/{image['id']}"), 404)
    glance_fault(image_call(member, "DELETE", f"/images/{image['id']}"), 404)
    kept = create_image(member, protected=True, name=unique())
    assert "is protected" in glance_fault(image_call(member, "DELETE", f"/images/{kept['id']}"), 403)
    ops = [{"op": "replace", "path": "/protected", "value": False}]
    assert image_call(member, "PATCH", f"/images/{kept['id']}", json=ops, headers=PATCH).status_code == 200
    assert image_call(member, "DELETE", f"/images/{kept['id']}").status_code == 204


def test_a_reader_may_look_but_not_create(server: RunningServer) -> None:
    with fresh_member(server, role="reader") as reader:
        glance_fault(image_call(reader, "POST", "/images", json={"name": "x"}), 403)
        assert image_call(reader, "GET", "/images").status_code == 200

"""``/volumes``: create, list, show, update, metadata, delete, and who may do what.

Tests that count volumes use a project of their own (``fresh_member``), so a
refused request can be shown to have created nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from firebrick.clock import utcnow
from firebrick.config import BackendSettings
from firebrick.domain.identity import TokenSigner, _b64
from firebrick.storage.base import GiB
from tests.api.volume._helpers import (
    MISSING_ID,
    create_snapshot,
    create_volume,
    delete_volume,
    fault,
    file_backend,
    fresh_member,
    named,
    project_id,
    unique,
    volume_count,
    volume_ids,
)
from tests.conftest import DEMO_PASSWORD, ApiClient, RunningServer, api_client

PATTERN = b"firebrick-pattern-\x00\x01\x02\xff" * 8
OFFSET = 3 * 1024 * 1024 + 17


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def write_pattern(server: RunningServer, volume_id: str) -> None:
    path = file_backend(server).volume_path(volume_id)
    with path.open("r+b") as stream:
        stream.seek(OFFSET)
        stream.write(PATTERN)
        stream.flush()
        os.fsync(stream.fileno())


def read_pattern(server: RunningServer, volume_id: str) -> bytes:
    with file_backend(server).volume_path(volume_id).open("rb") as stream:
        stream.seek(OFFSET)
        return stream.read(len(PATTERN))


# --- create --------------------------------------------------------------------------------------


def test_create_is_202_creating_then_available_with_a_file_of_that_size(server: RunningServer, demo: ApiClient) -> None:
    name = unique()
    response = demo.volume("POST", "/volumes", json={"volume": {"size": 2, "name": name}})
    assert response.status_code == 202
    volume = response.json()["volume"]
    assert volume["status"] == "creating"
    assert volume["size"] == 2 and volume["name"] == name
    assert demo.wait_volume(volume["id"], "available")["status"] == "available"
    path = file_backend(server).volume_path(volume["id"])
    assert path.is_file()
    assert path.stat().st_size == 2 * GiB
    delete_volume(demo, volume["id"])


def test_create_accepts_size_as_a_string(server: RunningServer, demo: ApiClient) -> None:
    volume = create_volume(demo, size="2")
    assert volume["size"] == 2
    assert file_backend(server).volume_path(volume["id"]).stat().st_size == 2 * GiB
    delete_volume(demo, volume["id"])


def test_create_strips_name_and_description_and_keeps_metadata(demo: ApiClient) -> None:
    name = unique()
    volume = create_volume(demo, name=f"  {name} ", description=" words  ", metadata={"k": "v"})
    assert volume["name"] == name
    assert volume["description"] == "words"
    assert volume["metadata"] == {"k": "v"}
    delete_volume(demo, volume["id"])


def test_create_accepts_legacy_display_fields(demo: ApiClient) -> None:
    name = unique()
    response = demo.volume(
        "POST", "/volumes", json={"volume": {"size": 1, "display_name": name, "display_description": "d"}}
    )
    assert response.status_code == 202
    volume = demo.wait_volume(response.json()["volume"]["id"], "available")
    assert (volume["name"], volume["description"]) == (name, "d")
    delete_volume(demo, volume["id"])


@pytest.mark.parametrize("size", [0, "0", -1, "-1", "abc", "", "#$%", 1.5, None, True, [1], {"a": 1}, 2147483648])
def test_bad_size_is_400_and_creates_nothing(member: ApiClient, size: object) -> None:
    name = unique()
    response = member.volume("POST", "/volumes", json={"volume": {"size": size, "name": name}})
    message = fault(response, 400)
    if size in (None, "0"):
        assert "must be an integer and greater than 0" in message, message
    else:
        assert message.startswith("Invalid input for field/attribute size. Value: "), message
    assert named(member, name) == []
    assert volume_count(member) == 0


def test_missing_size_without_source_is_400(member: ApiClient) -> None:
    message = fault(member.volume("POST", "/volumes", json={"volume": {"name": unique()}}), 400)
    assert "must be an integer and greater than 0" in message
    assert volume_count(member) == 0


def test_malformed_json_is_400(member: ApiClient) -> None:
    response = member.volume(
        "POST", "/volumes", content=b'{"volume": {"size": 1', headers={"Content-Type": "application/json"}
    )
    assert fault(response, 400) == "Malformed request body"
    assert volume_count(member) == 0


def test_empty_body_is_400(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", content=b"", headers={"Content-Type": "application/json"})
    fault(response, 400)
    assert volume_count(member) == 0


def test_non_json_content_type_is_415(member: ApiClient) -> None:
    response = member.volume(
        "POST", "/volumes", content=b'{"volume": {"size": 1}}', headers={"Content-Type": "text/plain"}
    )
    fault(response, 415)
    assert volume_count(member) == 0


@pytest.mark.parametrize("body", [{}, {"vol": {"size": 1}}, [], "volume", {"volume": "big"}, {"volume": None}])
def test_body_without_a_volume_object_is_400(member: ApiClient, body: object) -> None:
    fault(member.volume("POST", "/volumes", json=body), 400)
    assert volume_count(member) == 0


def test_missing_volume_key_message(member: ApiClient) -> None:
    assert fault(member.volume("POST", "/volumes", json={"size": 1}), 400) == "'volume' is a required property"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 5),
        ("name", "x" * 256),
        ("description", ["d"]),
        ("metadata", {"k": 1}),
        ("metadata", {"bad!key": "v"}),
        ("metadata", "k=v"),
        ("snapshot_id", "not-a-uuid"),
        ("source_volid", 12),
        ("availability_zone", ""),
        ("multiattach", "maybe"),
    ],
)
def test_wrong_field_types_are_400(member: ApiClient, field: str, value: object) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, field: value}})
    fault(response, 400)
    assert volume_count(member) == 0


def test_multiattach_true_is_refused(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "multiattach": True}})
    assert fault(response, 400).startswith("multiattach parameter has been removed")
    assert volume_count(member) == 0


def test_unknown_availability_zone_is_400(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "availability_zone": "mars"}})
    assert fault(response, 400) == "Availability zone 'mars' is invalid."
    assert volume_count(member) == 0


def test_unknown_volume_type_is_404(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "volume_type": "no-such-type"}})
    assert fault(response, 404) == "Volume type with name no-such-type could not be found."
    assert volume_count(member) == 0


def test_unknown_snapshot_is_404(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "snapshot_id": MISSING_ID}})
    assert fault(response, 404) == f"Snapshot {MISSING_ID} could not be found."
    assert volume_count(member) == 0


def test_unknown_source_volume_is_404(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "source_volid": MISSING_ID}})
    assert fault(response, 404) == f"Volume {MISSING_ID} could not be found."
    assert volume_count(member) == 0


def test_another_projects_volume_as_source_is_404(member: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        response = member.volume("POST", "/volumes", json={"volume": {"source_volid": theirs["id"]}})
        assert fault(response, 404) == f"Volume {theirs['id']} could not be found."
        assert volume_count(member) == 0
    finally:
        delete_volume(other, theirs["id"])


def test_unknown_keys_are_ignored_at_3_0(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "bogus": "x"}})
    assert response.status_code == 202
    member.wait_volume(response.json()["volume"]["id"], "available")
    delete_volume(member, response.json()["volume"]["id"])


@pytest.mark.parametrize("version", ["3.53", "latest"])
def test_unknown_keys_are_400_from_3_53(member: ApiClient, version: str) -> None:
    response = member.volume("POST", "/volumes", version=version, json={"volume": {"size": 1, "bogus": "x"}})
    assert fault(response, 400) == "Additional properties are not allowed ('bogus' was unexpected)"
    assert volume_count(member) == 0


def test_unknown_keys_still_ignored_at_3_52(member: ApiClient) -> None:
    response = member.volume("POST", "/volumes", version="3.52", json={"volume": {"size": 1, "bogus": "x"}})
    assert response.status_code == 202
    member.wait_volume(response.json()["volume"]["id"], "available")
    delete_volume(member, response.json()["volume"]["id"])


def test_create_from_snapshot_copies_the_bytes(server: RunningServer, demo: ApiClient) -> None:
    source = create_volume(demo)
    write_pattern(server, source["id"])
    snapshot = create_snapshot(demo, source["id"])
    with file_backend(server).volume_path(source["id"]).open("r+b") as stream:
        stream.seek(OFFSET)
        stream.write(b"\x00" * len(PATTERN))  # the snapshot keeps the bytes as they were
    copy = create_volume(demo, size=None, snapshot_id=snapshot["id"])
    assert copy["size"] == 1
    assert copy["snapshot_id"] == snapshot["id"]
    assert read_pattern(server, copy["id"]) == PATTERN
    delete_volume(demo, copy["id"])
    delete_volume(demo, source["id"], "?cascade=true")


def test_create_from_snapshot_can_be_larger(server: RunningServer, demo: ApiClient) -> None:
    source = create_volume(demo)
    write_pattern(server, source["id"])
    snapshot = create_snapshot(demo, source["id"])
    copy = create_volume(demo, size=2, snapshot_id=snapshot["id"])
    assert file_backend(server).volume_path(copy["id"]).stat().st_size == 2 * GiB
    assert read_pattern(server, copy["id"]) == PATTERN
    delete_volume(demo, copy["id"])
    delete_volume(demo, source["id"], "?cascade=true")


def test_create_from_snapshot_smaller_than_it_is_400(server: RunningServer, demo: ApiClient) -> None:
    source = create_volume(demo, size=2)
    snapshot = create_snapshot(demo, source["id"])
    name = unique()
    response = demo.volume(
        "POST", "/volumes", json={"volume": {"size": 1, "snapshot_id": snapshot["id"], "name": name}}
    )
    assert fault(response, 400) == (
        "Invalid input received: Volume size '1'GB cannot be smaller than the source size '2'GB."
    )
    assert named(demo, name) == []
    delete_volume(demo, source["id"], "?cascade=true")


def test_create_from_source_volume_copies_the_bytes(server: RunningServer, demo: ApiClient) -> None:
    source = create_volume(demo)
    write_pattern(server, source["id"])
    clone = create_volume(demo, size=None, source_volid=source["id"])
    assert clone["size"] == 1
    assert clone["source_volid"] == source["id"]
    assert read_pattern(server, clone["id"]) == PATTERN
    assert file_backend(server).volume_path(clone["id"]).stat().st_size == GiB
    delete_volume(demo, clone["id"])
    delete_volume(demo, source["id"])


def test_create_with_a_type_by_name_and_by_id(admin: ApiClient, demo: ApiClient) -> None:
    type_name = unique("type")
    created = admin.volume("POST", "/types", json={"volume_type": {"name": type_name}})
    assert created.status_code == 200
    type_id = created.json()["volume_type"]["id"]
    by_name = create_volume(demo, volume_type=type_name)
    by_id = create_volume(demo, volume_type=type_id)
    assert by_name["volume_type"] == by_id["volume_type"] == type_name
    shown = demo.volume("GET", f"/volumes/{by_id['id']}", version="3.63").json()["volume"]
    assert shown["volume_type_id"] == type_id
    delete_volume(demo, by_name["id"])
    delete_volume(demo, by_id["id"])
    assert admin.volume("DELETE", f"/types/{type_id}").status_code == 202


# --- a pool too small ----------------------------------------------------------------------------


def test_volume_that_does_not_fit_goes_to_error_and_leaves_no_file(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> None:
    pool_dir = tmp_path / "small-pool"
    small = server_factory(backends=(BackendSettings("small", "pool", pool_dir, 2, "raw"),))
    client = api_client(small, "demo", DEMO_PASSWORD, "demo")
    try:
        response = client.volume("POST", "/volumes", json={"volume": {"size": 5, "name": unique()}})
        assert response.status_code == 202
        volume = client.wait_volume(response.json()["volume"]["id"], "available", "error")
        assert volume["status"] == "error"
        record = small.node.repos.volumes.get(volume["id"])
        assert record is not None and record.error_reason is not None
        assert "insufficient free space" in record.error_reason
        assert not file_backend(small).volume_path(volume["id"]).exists()
        assert [p.name for p in pool_dir.iterdir() if p.is_file()] == []
        assert list((pool_dir / ".formats").iterdir()) == []
        # A volume in error can be deleted, and one that fits still works.
        delete_volume(client, volume["id"])
        fits = create_volume(client, size=1)
        assert file_backend(small).volume_path(fits["id"]).stat().st_size == GiB
    finally:
        client.http.close()


# --- list ----------------------------------------------------------------------------------------


@pytest.fixture
def three(member: ApiClient) -> list[dict[str, Any]]:
    return [
        create_volume(member, name="bravo", metadata={"tier": "gold"}),
        create_volume(member, name="alpha", metadata={"tier": "silver"}),
        create_volume(member, name="charlie", size=2, metadata={"tier": "gold", "x": "y"}),
    ]


def test_list_filters_by_name(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert volume_ids(member, "?name=alpha") == [three[1]["id"]]
    assert volume_ids(member, "?name=nothing-called-this") == []


def test_list_filters_by_status(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert sorted(volume_ids(member, "?status=available")) == sorted(v["id"] for v in three)
    assert volume_ids(member, "?status=error") == []
    assert volume_ids(member, "?status=no-such-status") == []


def test_list_filters_by_metadata(member: ApiClient, three: list[dict[str, Any]]) -> None:
    gold = volume_ids(member, "?metadata={'tier':'gold'}&sort=name:asc")
    assert gold == [three[0]["id"], three[2]["id"]]
    both = volume_ids(member, "?metadata={'tier':'gold','x':'y'}")
    assert both == [three[2]["id"]]


def test_list_filters_by_bootable(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert len(volume_ids(member, "?bootable=false")) == 3
    assert volume_ids(member, "?bootable=true") == []


def test_list_filters_by_size(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert volume_ids(member, "?size=2") == [three[2]["id"]]


def test_bad_filter_values_are_400(member: ApiClient, three: list[dict[str, Any]]) -> None:
    fault(member.volume("GET", "/volumes?bootable=maybe"), 400)
    fault(member.volume("GET", "/volumes?metadata=notadict"), 400)


def test_list_sorts_by_name(member: ApiClient, three: list[dict[str, Any]]) -> None:
    names = [v["name"] for v in member.volume("GET", "/volumes?sort=name:asc").json()["volumes"]]
    assert names == ["alpha", "bravo", "charlie"]
    names = [v["name"] for v in member.volume("GET", "/volumes/detail?sort=name:desc").json()["volumes"]]
    assert names == ["charlie", "bravo", "alpha"]
    names = [v["name"] for v in member.volume("GET", "/volumes?sort_key=name&sort_dir=asc").json()["volumes"]]
    assert names == ["alpha", "bravo", "charlie"]


def test_default_order_is_newest_first(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert volume_ids(member) == [v["id"] for v in reversed(three)]


@pytest.mark.parametrize("query", ["?sort=bogus:asc", "?sort=name:sideways", "?sort=name&sort_key=name"])
def test_bad_sort_is_400(member: ApiClient, query: str) -> None:
    fault(member.volume("GET", f"/volumes{query}"), 400)


def test_pagination_pages_cover_everything_in_order(member: ApiClient) -> None:
    created = [create_volume(member, name=f"page-{i}") for i in range(5)]
    expected = [v["id"] for v in created]
    seen: list[str] = []
    query = "?sort=name:asc&limit=2"
    pages = 0
    while True:
        body = member.volume("GET", f"/volumes{query}").json()
        pages += 1
        seen += [v["id"] for v in body["volumes"]]
        if "volumes_links" not in body:
            break
        href = body["volumes_links"][0]["href"]
        query = "?" + href.split("?", 1)[1]
        assert f"marker={seen[-1]}" in query
    assert pages == 3
    assert seen == expected


def walk_pages(client: ApiClient, query: str) -> list[str]:
    """Follow ``volumes_links`` from ``query`` to the end; the ids seen, in order."""
    seen: list[str] = []
    for _ in range(50):
        response = client.volume("GET", f"/volumes{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [v["id"] for v in body["volumes"]]
        if "volumes_links" not in body:
            return seen
        query = "?" + body["volumes_links"][0]["href"].split("?", 1)[1]
    raise AssertionError("pagination does not end")


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_pagination_by_name_over_unnamed_volumes_covers_everything(member: ApiClient, direction: str) -> None:
    created = [create_volume(member, name=None)["id"] for _ in range(3)] + [create_volume(member, name="named")["id"]]
    seen = walk_pages(member, f"?sort=name:{direction}&limit=1")
    assert sorted(seen) == sorted(created)
    assert len(seen) == 4
    assert seen == volume_ids(member, f"?sort=name:{direction}")


def test_pagination_by_updated_at_covers_everything(member: ApiClient) -> None:
    created = [create_volume(member)["id"] for _ in range(3)]
    assert sorted(walk_pages(member, "?sort=updated_at:asc&limit=2")) == sorted(created)


def test_offset_skips(member: ApiClient, three: list[dict[str, Any]]) -> None:
    assert volume_ids(member, "?sort=name:asc&offset=1") == [three[0]["id"], three[2]["id"]]


def test_unknown_marker_is_404(member: ApiClient) -> None:
    assert (
        fault(member.volume("GET", f"/volumes?marker={MISSING_ID}"), 404) == f"Volume {MISSING_ID} could not be found."
    )


def test_another_projects_volume_is_no_marker(member: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        response = member.volume("GET", f"/volumes?marker={theirs['id']}")
        assert fault(response, 404) == f"Volume {theirs['id']} could not be found."
    finally:
        delete_volume(other, theirs["id"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?limit=-1", "limit param must be positive"),
        ("?limit=abc", "limit param must be an integer"),
        ("?limit=1.5", "limit param must be an integer"),
    ],
)
def test_bad_limit_is_400(member: ApiClient, query: str, message: str) -> None:
    assert fault(member.volume("GET", f"/volumes{query}"), 400) == message


@pytest.mark.parametrize("query", ["?offset=-1", "?offset=x"])
def test_bad_offset_is_400(member: ApiClient, query: str) -> None:
    assert "offset" in fault(member.volume("GET", f"/volumes{query}"), 400)


def test_admin_all_tenants_lists_other_projects(admin: ApiClient, member: ApiClient) -> None:
    theirs = create_volume(member)
    assert theirs["id"] in volume_ids(admin, "?all_tenants=1")
    assert theirs["id"] not in volume_ids(admin)
    assert volume_ids(admin, f"?all_tenants=1&name={theirs['name']}") == [theirs["id"]]


def test_member_all_tenants_is_ignored(member: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        assert theirs["id"] not in volume_ids(member, "?all_tenants=1")
        assert volume_ids(member, "?all_tenants=1") == []
    finally:
        delete_volume(other, theirs["id"])


def test_summary_counts_only_own_volumes(member: ApiClient, three: list[dict[str, Any]]) -> None:
    body = member.volume("GET", "/volumes/summary", version="3.12").json()
    assert body == {"volume-summary": {"total_count": 3, "total_size": 4}}
    body = member.volume("GET", "/volumes/summary", version="3.36").json()
    assert body == {"volume-summary": {"total_count": 3, "total_size": 4, "metadata": {}}}


def test_with_count_counts_the_filtered_set(member: ApiClient, three: list[dict[str, Any]]) -> None:
    body = member.volume("GET", "/volumes?with_count=true&metadata={'tier':'gold'}&limit=1", version="3.45").json()
    assert body["count"] == 2
    assert len(body["volumes"]) == 1


# --- show ----------------------------------------------------------------------------------------


def test_another_projects_volume_is_404_like_a_missing_one(demo: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        response = demo.volume("GET", f"/volumes/{theirs['id']}")
        assert response.json() == {
            "itemNotFound": {"code": 404, "message": f"Volume {theirs['id']} could not be found."}
        }
        for method, path, body in [
            ("PUT", f"/volumes/{theirs['id']}", {"volume": {"name": "stolen"}}),
            ("DELETE", f"/volumes/{theirs['id']}", None),
            ("GET", f"/volumes/{theirs['id']}/metadata", None),
            ("POST", f"/volumes/{theirs['id']}/metadata", {"metadata": {"a": "b"}}),
        ]:
            assert fault(demo.volume(method, path, json=body), 404) == f"Volume {theirs['id']} could not be found."
        assert other.volume("GET", f"/volumes/{theirs['id']}").json()["volume"]["name"] == theirs["name"]
        assert other.volume("GET", f"/volumes/{theirs['id']}/metadata").json() == {"metadata": {}}
    finally:
        delete_volume(other, theirs["id"])


def test_admin_sees_any_projects_volume(admin: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        shown = admin.volume("GET", f"/volumes/{theirs['id']}").json()["volume"]
        assert shown["os-vol-tenant-attr:tenant_id"] == other.project_id
    finally:
        delete_volume(other, theirs["id"])


def test_show_of_a_non_uuid_id_is_404(demo: ApiClient) -> None:
    assert fault(demo.volume("GET", "/volumes/not-a-uuid"), 404) == "Volume not-a-uuid could not be found."


# --- update --------------------------------------------------------------------------------------


def test_update_name_description_and_metadata(demo: ApiClient) -> None:
    volume = create_volume(demo, metadata={"old": "1"})
    new_name = unique("renamed")
    body = {"volume": {"name": new_name, "description": "new words", "metadata": {"new": "2"}}}
    response = demo.volume("PUT", f"/volumes/{volume['id']}", json=body)
    assert response.status_code == 200
    answered = response.json()["volume"]
    assert (answered["name"], answered["description"], answered["metadata"]) == (new_name, "new words", {"new": "2"})
    assert not any(key.startswith("os-vol-") for key in answered)
    shown = demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert (shown["name"], shown["description"], shown["metadata"]) == (new_name, "new words", {"new": "2"})
    delete_volume(demo, volume["id"])


def test_update_with_display_name(demo: ApiClient) -> None:
    volume = create_volume(demo)
    new_name = unique()
    response = demo.volume("PUT", f"/volumes/{volume['id']}", json={"volume": {"display_name": new_name}})
    assert response.status_code == 200
    assert response.json()["volume"]["name"] == new_name
    delete_volume(demo, volume["id"])


def test_empty_update_is_fine_at_3_0_and_400_from_3_53(demo: ApiClient) -> None:
    volume = create_volume(demo)
    assert demo.volume("PUT", f"/volumes/{volume['id']}", json={"volume": {}}).status_code == 200
    fault(demo.volume("PUT", f"/volumes/{volume['id']}", version="3.53", json={"volume": {}}), 400)
    delete_volume(demo, volume["id"])


@pytest.mark.parametrize(
    "body",
    [
        {"volume": {"name": "x" * 256}},
        {"volume": {"size": 5}},
        {"volume": {"metadata": {"k": 5}}},
        {"volume": {"name": 7}},
        {"name": "x"},
        {"volume": {"status": "error"}},
    ],
)
def test_bad_update_is_400_and_changes_nothing(demo: ApiClient, body: dict[str, Any]) -> None:
    volume = create_volume(demo, metadata={"keep": "me"})
    fault(demo.volume("PUT", f"/volumes/{volume['id']}", json=body), 400)
    shown = demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert (shown["name"], shown["size"], shown["metadata"], shown["status"]) == (
        volume["name"],
        1,
        {"keep": "me"},
        "available",
    )
    delete_volume(demo, volume["id"])


def test_update_of_a_missing_volume_is_404(demo: ApiClient) -> None:
    fault(demo.volume("PUT", f"/volumes/{MISSING_ID}", json={"volume": {"name": "x"}}), 404)


# --- metadata ------------------------------------------------------------------------------------


def test_metadata_read_merge_replace_and_keys(demo: ApiClient) -> None:
    volume = create_volume(demo, metadata={"a": "1"})
    path = f"/volumes/{volume['id']}/metadata"
    assert demo.volume("GET", path).json() == {"metadata": {"a": "1"}}

    merged = demo.volume("POST", path, json={"metadata": {"b": "2", "a": "one"}})
    assert merged.status_code == 200
    assert merged.json() == {"metadata": {"a": "one", "b": "2"}}

    replaced = demo.volume("PUT", path, json={"metadata": {"c": "3"}})
    assert replaced.status_code == 200
    assert replaced.json() == {"metadata": {"c": "3"}}
    assert demo.volume("GET", path).json() == {"metadata": {"c": "3"}}

    assert demo.volume("GET", f"{path}/c").json() == {"meta": {"c": "3"}}
    put_key = demo.volume("PUT", f"{path}/c", json={"meta": {"c": "4"}})
    assert put_key.status_code == 200
    assert put_key.json() == {"meta": {"c": "4"}}
    put_new = demo.volume("PUT", f"{path}/d", json={"meta": {"d": "5"}})
    assert put_new.status_code == 200
    assert demo.volume("GET", path).json() == {"metadata": {"c": "4", "d": "5"}}

    deleted = demo.volume("DELETE", f"{path}/c")
    assert deleted.status_code == 200
    assert (
        fault(demo.volume("GET", f"{path}/c"), 404) == f"Metadata item was not found for volume {volume['id']}, key c."
    )
    assert demo.volume("GET", path).json() == {"metadata": {"d": "5"}}
    delete_volume(demo, volume["id"])


def test_metadata_key_errors(demo: ApiClient) -> None:
    volume = create_volume(demo, metadata={"a": "1"})
    path = f"/volumes/{volume['id']}/metadata"
    assert fault(demo.volume("PUT", f"{path}/a", json={"meta": {"b": "2"}}), 400) == "Request body and URI mismatch"
    assert (
        fault(demo.volume("PUT", f"{path}/a", json={"meta": {"a": "2", "b": "3"}}), 400)
        == "Request body contains too many items"
    )
    fault(demo.volume("PUT", f"{path}/a", json={"metadata": {"a": "2"}}), 400)
    fault(demo.volume("DELETE", f"{path}/nope"), 404)
    fault(demo.volume("GET", f"{path}/nope"), 404)
    assert demo.volume("GET", path).json() == {"metadata": {"a": "1"}}
    delete_volume(demo, volume["id"])


@pytest.mark.parametrize(
    "body", [{"metadata": {"bad!key": "v"}}, {"metadata": {"k": 1}}, {"meta": {"k": "v"}}, {"metadata": "k"}]
)
def test_bad_metadata_is_400_and_changes_nothing(demo: ApiClient, body: dict[str, Any]) -> None:
    volume = create_volume(demo, metadata={"a": "1"})
    path = f"/volumes/{volume['id']}/metadata"
    fault(demo.volume("POST", path, json=body), 400)
    fault(demo.volume("PUT", path, json=body), 400)
    assert demo.volume("GET", path).json() == {"metadata": {"a": "1"}}
    delete_volume(demo, volume["id"])


def test_metadata_of_a_missing_volume_is_404(demo: ApiClient) -> None:
    assert (
        fault(demo.volume("GET", f"/volumes/{MISSING_ID}/metadata"), 404) == f"Volume {MISSING_ID} could not be found."
    )


# --- delete --------------------------------------------------------------------------------------


def test_delete_removes_volume_and_file(server: RunningServer, demo: ApiClient) -> None:
    volume = create_volume(demo)
    path = file_backend(server).volume_path(volume["id"])
    assert path.is_file()
    response = demo.volume("DELETE", f"/volumes/{volume['id']}")
    assert response.status_code == 202
    assert response.content == b""
    demo.wait_gone(f"/volumes/{volume['id']}")
    server.wait_idle()
    assert not path.exists()
    assert volume["id"] not in volume_ids(demo)


def test_delete_missing_is_404(demo: ApiClient) -> None:
    assert fault(demo.volume("DELETE", f"/volumes/{MISSING_ID}"), 404) == f"Volume {MISSING_ID} could not be found."


def test_delete_with_snapshot_is_400_until_cascade(server: RunningServer, demo: ApiClient) -> None:
    volume = create_volume(demo)
    snapshot = create_snapshot(demo, volume["id"])
    refused = demo.volume("DELETE", f"/volumes/{volume['id']}")
    assert fault(refused, 400).startswith("Invalid volume: Volume status must be available or error")
    assert demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert demo.volume("GET", f"/snapshots/{snapshot['id']}").status_code == 200

    assert demo.volume("DELETE", f"/volumes/{volume['id']}?cascade=true").status_code == 202
    demo.wait_gone(f"/volumes/{volume['id']}")
    assert demo.volume("GET", f"/snapshots/{snapshot['id']}").status_code == 404
    server.wait_idle()
    assert not file_backend(server).volume_path(volume["id"]).exists()
    assert not file_backend(server).snapshot_path(snapshot["id"]).exists()


def test_deleting_twice_is_refused_or_gone(demo: ApiClient) -> None:
    volume = create_volume(demo)
    assert demo.volume("DELETE", f"/volumes/{volume['id']}").status_code == 202
    second = demo.volume("DELETE", f"/volumes/{volume['id']}")
    assert second.status_code in (400, 404), second.text
    demo.wait_gone(f"/volumes/{volume['id']}")


def test_force_delete_needs_admin(admin: ApiClient, demo: ApiClient) -> None:
    volume = create_volume(demo)
    refused = demo.volume("DELETE", f"/volumes/{volume['id']}?force=true", version="3.23")
    assert fault(refused, 403) == "Policy doesn't allow volume:force_delete to be performed."
    assert demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert admin.volume("DELETE", f"/volumes/{volume['id']}?force=true", version="3.23").status_code == 202
    demo.wait_gone(f"/volumes/{volume['id']}")


def test_force_is_ignored_before_3_23(demo: ApiClient) -> None:
    volume = create_volume(demo)
    assert demo.volume("DELETE", f"/volumes/{volume['id']}?force=true", version="3.22").status_code == 202
    demo.wait_gone(f"/volumes/{volume['id']}")


# --- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_trailing_slash_is_404(demo: ApiClient, method: str) -> None:
    response = demo.volume(method, "/volumes/", json={"volume": {"name": "x"}} if method == "PUT" else None)
    fault(response, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/volumes"), ("DELETE", "/volumes"), ("PUT", "/volumes"), ("POST", f"/volumes/{MISSING_ID}")],
)
def test_wrong_method_is_405_with_a_json_body(demo: ApiClient, method: str, path: str) -> None:
    response = demo.volume(method, path)
    assert response.headers["content-type"].startswith("application/json")
    assert fault(response, 405) == "The method is not allowed for the requested URL."


def test_volumes_without_project_in_url(demo: ApiClient) -> None:
    volume = create_volume(demo)
    response = demo.http.get(f"/volume/v3/volumes/{volume['id']}", headers={"OpenStack-API-Version": "volume 3.67"})
    assert response.status_code == 200
    assert response.json()["volume"]["id"] == volume["id"]
    delete_volume(demo, volume["id"])


# --- member, reader, admin -----------------------------------------------------------------------


def test_reader_can_list_and_show_but_not_write(demo: ApiClient, reader: ApiClient) -> None:
    volume = create_volume(demo)
    assert volume["id"] in volume_ids(reader)
    assert reader.volume("GET", f"/volumes/{volume['id']}").status_code == 200
    assert reader.volume("GET", f"/volumes/{volume['id']}/metadata").status_code == 200
    name = unique()
    created = reader.volume("POST", "/volumes", json={"volume": {"size": 1, "name": name}})
    assert fault(created, 403) == "Policy doesn't allow volume:create to be performed."
    assert named(demo, name) == []
    updated = reader.volume("PUT", f"/volumes/{volume['id']}", json={"volume": {"name": "reader-was-here"}})
    assert fault(updated, 403) == "Policy doesn't allow volume:update to be performed."
    fault(reader.volume("POST", f"/volumes/{volume['id']}/metadata", json={"metadata": {"a": "b"}}), 403)
    fault(reader.volume("DELETE", f"/volumes/{volume['id']}"), 403)
    shown = demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert (shown["name"], shown["metadata"], shown["status"]) == (volume["name"], {}, "available")
    delete_volume(demo, volume["id"])


def test_reader_does_not_see_admin_keys(demo: ApiClient, reader: ApiClient) -> None:
    volume = create_volume(demo)
    shown = reader.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert "os-vol-host-attr:host" not in shown and "migration_status" not in shown
    assert shown["os-vol-tenant-attr:tenant_id"] == demo.project_id
    delete_volume(demo, volume["id"])


# --- authentication ------------------------------------------------------------------------------


def test_no_token_is_401(server: RunningServer, demo: ApiClient) -> None:
    response = httpx.get(f"{server.url}/volume/v3/{demo.project_id}/volumes")
    assert fault(response, 401) == "The request you have made requires authentication."
    assert response.headers["www-authenticate"] == f'Keystone uri="{server.url}/identity"'


@pytest.mark.parametrize("token", ["garbage", "abc.def", "a.b.c", "..."])
def test_garbage_token_is_401(server: RunningServer, demo: ApiClient, token: str) -> None:
    response = httpx.get(f"{server.url}/volume/v3/{demo.project_id}/volumes", headers={"X-Auth-Token": token})
    fault(response, 401)


def test_expired_token_is_401(server: RunningServer, demo: ApiClient) -> None:
    user = server.node.repos.identity.user(name="demo")
    assert user is not None
    signer = TokenSigner(server.node.repos.token_keys, 3600)
    expired, _ = signer.issue(user.id, demo.project_id, ("password",), expires_at=utcnow() - timedelta(seconds=1))
    valid, _ = signer.issue(user.id, demo.project_id, ("password",))
    url = f"{server.url}/volume/v3/{demo.project_id}/volumes"
    assert httpx.get(url, headers={"X-Auth-Token": valid}).status_code == 200  # the signer is the server's
    assert (
        fault(httpx.get(url, headers={"X-Auth-Token": expired}), 401)
        == "The request you have made requires authentication."
    )


def test_token_signed_with_another_key_is_401(server: RunningServer, demo: ApiClient) -> None:
    user = server.node.repos.identity.user(name="demo")
    assert user is not None
    genuine, _ = TokenSigner(server.node.repos.token_keys, 3600).issue(user.id, demo.project_id, ("password",))
    signed = genuine.rpartition(".")[0]  # the server's kid and genuine claims, then another key's signature
    forged = f"{signed}.{_b64.encode(hmac.new(b'k' * 32, signed.encode(), hashlib.sha256).digest())}"
    fault(httpx.get(f"{server.url}/volume/v3/{demo.project_id}/volumes", headers={"X-Auth-Token": forged}), 401)


def test_no_token_on_create_creates_nothing(server: RunningServer, member: ApiClient) -> None:
    response = httpx.post(f"{server.url}/volume/v3/{member.project_id}/volumes", json={"volume": {"size": 1}})
    fault(response, 401)
    assert volume_count(member) == 0


def test_project_in_url_other_than_the_tokens_is_400(server: RunningServer, demo: ApiClient, admin: ApiClient) -> None:
    other_project = project_id(server, "other")
    url = f"/volume/v3/{other_project}/volumes"
    assert fault(demo.http.get(url), 400) == "Malformed request url"
    assert fault(admin.http.get(url), 400) == "Malformed request url"
    assert fault(demo.http.post(url, json={"volume": {"size": 1}}), 400) == "Malformed request url"

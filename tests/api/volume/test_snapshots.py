"""``/snapshots``: create, list, detail, show, update, delete, and their refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from tests.api.volume._helpers import (
    MISSING_ID,
    create_snapshot,
    create_volume,
    delete_snapshot,
    delete_volume,
    fault,
    file_backend,
    fresh_member,
    unique,
)
from tests.conftest import DEMO_PASSWORD, ApiClient, RunningServer, api_client

CORE_KEYS = {"id", "created_at", "updated_at", "name", "description", "volume_id", "status", "size", "metadata"}
EXTENDED_KEYS = {"os-extended-snapshot-attributes:progress", "os-extended-snapshot-attributes:project_id"}


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


@pytest.fixture
def volume(demo: ApiClient) -> Iterator[dict[str, Any]]:
    created = create_volume(demo, size=2)
    yield created
    demo.wait_volume(created["id"], "available", "error")
    delete_volume(demo, created["id"], "?cascade=true")


def snapshot_ids(client: ApiClient, query: str = "") -> list[str]:
    response = client.volume("GET", f"/snapshots{query}")
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["snapshots"]]


def test_create_is_202_creating_then_available_with_a_file(
    server: RunningServer, demo: ApiClient, volume: dict[str, Any]
) -> None:
    name = unique("snap")
    body = {"snapshot": {"volume_id": volume["id"], "name": name, "description": "d", "metadata": {"k": "v"}}}
    response = demo.volume("POST", "/snapshots", json=body)
    assert response.status_code == 202
    snapshot = response.json()["snapshot"]
    assert set(snapshot) == CORE_KEYS
    assert snapshot["status"] == "creating"
    assert (snapshot["name"], snapshot["description"], snapshot["metadata"]) == (name, "d", {"k": "v"})
    assert (snapshot["volume_id"], snapshot["size"]) == (volume["id"], 2)
    done = demo.wait_snapshot(snapshot["id"], "available", "error")
    assert done["status"] == "available"
    path = file_backend(server).snapshot_path(snapshot["id"])
    assert path.is_file() and path.stat().st_size == 2 * 1024**3


def test_show_has_extended_attributes(demo: ApiClient, volume: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    response = demo.volume("GET", f"/snapshots/{snapshot['id']}")
    assert response.status_code == 200
    shown = response.json()["snapshot"]
    assert set(shown) == CORE_KEYS | EXTENDED_KEYS
    assert shown["os-extended-snapshot-attributes:progress"] == "100%"
    assert shown["os-extended-snapshot-attributes:project_id"] == demo.project_id


@pytest.mark.parametrize(
    ("version", "extra"),
    [
        ("3.13", set()),
        ("3.14", {"group_snapshot_id"}),
        ("3.41", {"group_snapshot_id", "user_id"}),
        ("3.65", {"group_snapshot_id", "user_id", "consumes_quota"}),
    ],
)
def test_show_fields_follow_the_microversion(
    demo: ApiClient, volume: dict[str, Any], version: str, extra: set[str]
) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    shown = demo.volume("GET", f"/snapshots/{snapshot['id']}", version=version).json()["snapshot"]
    assert set(shown) == CORE_KEYS | EXTENDED_KEYS | extra


def test_list_has_core_fields_and_detail_adds_extended(demo: ApiClient, volume: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    listed = [s for s in demo.volume("GET", "/snapshots").json()["snapshots"] if s["id"] == snapshot["id"]]
    assert len(listed) == 1 and set(listed[0]) == CORE_KEYS
    detailed = [s for s in demo.volume("GET", "/snapshots/detail").json()["snapshots"] if s["id"] == snapshot["id"]]
    assert len(detailed) == 1 and set(detailed[0]) == CORE_KEYS | EXTENDED_KEYS


def test_list_filters_and_sorts(member: ApiClient) -> None:
    first, second = create_volume(member), create_volume(member)
    a = create_snapshot(member, first["id"], name="a-snap")
    b = create_snapshot(member, second["id"], name="b-snap")
    c = create_snapshot(member, first["id"], name="c-snap")
    assert snapshot_ids(member, f"?volume_id={first['id']}&sort=name:asc") == [a["id"], c["id"]]
    assert snapshot_ids(member, "?name=b-snap") == [b["id"]]
    assert snapshot_ids(member, "?sort=name:desc") == [c["id"], b["id"], a["id"]]
    assert snapshot_ids(member, "?status=available&sort=name:asc&limit=2") == [a["id"], b["id"]]
    assert snapshot_ids(member, f"?sort=name:asc&marker={b['id']}") == [c["id"]]
    assert snapshot_ids(member, "?status=error") == []


def test_like_filter_on_name(member: ApiClient) -> None:
    volume = create_volume(member)
    alpha = create_snapshot(member, volume["id"], name="alpha-snap")
    create_snapshot(member, volume["id"], name="beta-snap")
    assert snapshot_ids(member, "?name~=pha") == [alpha["id"]]
    assert len(snapshot_ids(member, "?name~=snap")) == 2


def test_unknown_marker_is_404(demo: ApiClient) -> None:
    assert (
        fault(demo.volume("GET", f"/snapshots?marker={MISSING_ID}"), 404)
        == f"Snapshot {MISSING_ID} could not be found."
    )


def test_admin_all_tenants_lists_other_projects_snapshots(admin: ApiClient, member: ApiClient) -> None:
    theirs = create_snapshot(member, create_volume(member)["id"])
    assert theirs["id"] not in snapshot_ids(admin)
    assert theirs["id"] in snapshot_ids(admin, "?all_tenants=1")
    assert snapshot_ids(member, "?all_tenants=1") == [theirs["id"]]


def test_update_name_and_description(demo: ApiClient, volume: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    new_name = unique("renamed")
    response = demo.volume(
        "PUT", f"/snapshots/{snapshot['id']}", json={"snapshot": {"name": new_name, "description": "new"}}
    )
    assert response.status_code == 200
    answered = response.json()["snapshot"]
    assert set(answered) == CORE_KEYS
    assert (answered["name"], answered["description"]) == (new_name, "new")
    shown = demo.volume("GET", f"/snapshots/{snapshot['id']}").json()["snapshot"]
    assert (shown["name"], shown["description"]) == (new_name, "new")
    renamed = demo.volume("PUT", f"/snapshots/{snapshot['id']}", json={"snapshot": {"display_name": "legacy"}})
    assert renamed.json()["snapshot"]["name"] == "legacy"


@pytest.mark.parametrize(
    "body", [{"snapshot": {}}, {"snapshot": {"status": "error"}}, {"snapshot": {"name": 3}}, {"name": "x"}]
)
def test_bad_update_is_400_and_changes_nothing(demo: ApiClient, volume: dict[str, Any], body: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    fault(demo.volume("PUT", f"/snapshots/{snapshot['id']}", json=body), 400)
    shown = demo.volume("GET", f"/snapshots/{snapshot['id']}").json()["snapshot"]
    assert (shown["name"], shown["status"]) == (snapshot["name"], "available")


def test_delete_is_202_then_404_and_the_file_is_gone(
    server: RunningServer, demo: ApiClient, volume: dict[str, Any]
) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    path = file_backend(server).snapshot_path(snapshot["id"])
    assert path.is_file()
    response = demo.volume("DELETE", f"/snapshots/{snapshot['id']}")
    assert response.status_code == 202
    assert response.content == b""
    demo.wait_gone(f"/snapshots/{snapshot['id']}")
    server.wait_idle()
    assert not path.exists()
    assert (
        fault(demo.volume("GET", f"/snapshots/{snapshot['id']}"), 404)
        == f"Snapshot {snapshot['id']} could not be found."
    )
    # The volume is whole and, with its snapshot gone, deletable without cascade.
    assert demo.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"


def test_delete_missing_is_404(demo: ApiClient) -> None:
    assert fault(demo.volume("DELETE", f"/snapshots/{MISSING_ID}"), 404) == f"Snapshot {MISSING_ID} could not be found."


def test_null_volume_id_is_404(member: ApiClient) -> None:
    response = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": None}})
    assert fault(response, 404) == "Volume None could not be found."
    assert snapshot_ids(member) == []


def test_unknown_volume_is_404(member: ApiClient) -> None:
    response = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": MISSING_ID}})
    assert fault(response, 404) == f"Volume {MISSING_ID} could not be found."
    assert snapshot_ids(member) == []


@pytest.mark.parametrize(
    "body",
    [
        {"snapshot": {}},
        {"snapshot": {"volume_id": "not-a-uuid"}},
        {"volume_id": MISSING_ID},
        {"snapshot": {"volume_id": MISSING_ID, "bogus": 1}},
        {"snapshot": {"volume_id": MISSING_ID, "force": "maybe"}},
        {"snapshot": {"volume_id": MISSING_ID, "metadata": {"k": 1}}},
        {"snapshot": {"volume_id": MISSING_ID, "name": "x" * 256}},
    ],
)
def test_malformed_create_is_400(member: ApiClient, body: dict[str, Any]) -> None:
    fault(member.volume("POST", "/snapshots", json=body), 400)
    assert snapshot_ids(member) == []


def test_missing_volume_id_message(member: ApiClient) -> None:
    assert (
        fault(member.volume("POST", "/snapshots", json={"snapshot": {}}), 400) == "'volume_id' is a required property"
    )


def test_malformed_json_is_400(member: ApiClient) -> None:
    response = member.volume("POST", "/snapshots", content=b"{", headers={"Content-Type": "application/json"})
    assert fault(response, 400) == "Malformed request body"


def test_force_false_is_refused_from_3_66(member: ApiClient) -> None:
    volume = create_volume(member)
    body = {"snapshot": {"volume_id": volume["id"], "force": False}}
    assert fault(member.volume("POST", "/snapshots", version="3.66", json=body), 400) == (
        "Invalid input received: The 'force' parameter must not be false."
    )
    assert snapshot_ids(member) == []
    assert member.volume("POST", "/snapshots", version="3.65", json=body).status_code == 202


def test_another_projects_volume_and_snapshot_are_404(demo: ApiClient, other: ApiClient) -> None:
    theirs = create_volume(other)
    try:
        refused = demo.volume("POST", "/snapshots", json={"snapshot": {"volume_id": theirs["id"]}})
        assert fault(refused, 404) == f"Volume {theirs['id']} could not be found."
        snapshot = create_snapshot(other, theirs["id"])
        message = f"Snapshot {snapshot['id']} could not be found."
        assert fault(demo.volume("GET", f"/snapshots/{snapshot['id']}"), 404) == message
        assert (
            fault(demo.volume("PUT", f"/snapshots/{snapshot['id']}", json={"snapshot": {"name": "x"}}), 404) == message
        )
        assert fault(demo.volume("DELETE", f"/snapshots/{snapshot['id']}"), 404) == message
        refused = demo.volume("POST", "/volumes", json={"volume": {"snapshot_id": snapshot["id"]}})
        assert fault(refused, 404) == message
        assert snapshot["id"] not in snapshot_ids(demo, "?all_tenants=1")
        assert other.volume("GET", f"/snapshots/{snapshot['id']}").json()["snapshot"]["name"] == snapshot["name"]
    finally:
        delete_volume(other, theirs["id"], "?cascade=true")


def test_reader_can_read_but_not_write_snapshots(demo: ApiClient, reader: ApiClient, volume: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    assert reader.volume("GET", f"/snapshots/{snapshot['id']}").status_code == 200
    assert snapshot["id"] in snapshot_ids(reader)
    created = reader.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(created, 403) == "Policy doesn't allow volume:create_snapshot to be performed."
    fault(reader.volume("PUT", f"/snapshots/{snapshot['id']}", json={"snapshot": {"name": "x"}}), 403)
    fault(reader.volume("DELETE", f"/snapshots/{snapshot['id']}"), 403)
    assert snapshot_ids(demo, f"?volume_id={volume['id']}") == [snapshot["id"]]


def test_deleting_twice_is_refused_or_gone(demo: ApiClient, volume: dict[str, Any]) -> None:
    snapshot = create_snapshot(demo, volume["id"])
    assert demo.volume("DELETE", f"/snapshots/{snapshot['id']}").status_code == 202
    second = demo.volume("DELETE", f"/snapshots/{snapshot['id']}")
    assert second.status_code in (400, 404), second.text
    demo.wait_gone(f"/snapshots/{snapshot['id']}")


def test_snapshot_of_a_volume_in_error_is_400(server_factory: Callable[..., RunningServer], tmp_path: Path) -> None:
    small = server_factory(backends=(BackendSettings("small", "pool", tmp_path / "pool", 1, "raw"),))
    client = api_client(small, "demo", DEMO_PASSWORD, "demo")
    try:
        response = client.volume("POST", "/volumes", json={"volume": {"size": 3}})
        broken = client.wait_volume(response.json()["volume"]["id"], "available", "error")
        assert broken["status"] == "error"
        refused = client.volume("POST", "/snapshots", json={"snapshot": {"volume_id": broken["id"], "force": True}})
        message = fault(refused, 400)
        assert message.startswith(f"Invalid volume: Volume {broken['id']} status must be available"), message
        assert "error" in message
        assert client.volume("GET", "/snapshots").json() == {"snapshots": []}
        assert client.volume("DELETE", f"/volumes/{broken['id']}").status_code == 202
        client.wait_gone(f"/volumes/{broken['id']}")
    finally:
        client.http.close()


def test_snapshot_bytes_are_a_point_in_time_copy(
    server: RunningServer, demo: ApiClient, volume: dict[str, Any]
) -> None:
    path = file_backend(server).volume_path(volume["id"])
    with path.open("r+b") as stream:
        stream.seek(4096)
        stream.write(b"before")
    snapshot = create_snapshot(demo, volume["id"])
    with path.open("r+b") as stream:
        stream.seek(4096)
        stream.write(b"after!")
    with file_backend(server).snapshot_path(snapshot["id"]).open("rb") as stream:
        stream.seek(4096)
        assert stream.read(6) == b"before"
    delete_snapshot(demo, snapshot["id"])

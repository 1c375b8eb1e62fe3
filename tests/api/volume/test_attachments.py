"""``/attachments`` (3.27+): reserve, connect, complete, delete — and the detach-safety rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.domain.identity import Account, ensure_account
from tests.api.volume._helpers import (
    MEMBER_PASSWORD,
    MISSING_ID,
    create_volume,
    fault,
    file_backend,
    fresh_member,
    unique,
)
from tests.conftest import ApiClient, RunningServer, api_client

V = "3.54"
CONNECTOR = {"host": "compute-1", "initiator": "iqn.1993-08.org.debian:01:abc", "mountpoint": "/dev/vdb"}


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


@pytest.fixture
def compute(server: RunningServer, member: ApiClient) -> Iterator[ApiClient]:
    """The compute service's user in the member's project: member and service roles, as Nova's service token carries."""
    project = member_project(server, member)
    name = unique("nova")
    ensure_account(server.node.repos.identity, Account(name, project, MEMBER_PASSWORD, ("member", "service")))
    client = api_client(server, name, MEMBER_PASSWORD, project)
    yield client
    client.http.close()


def member_project(server: RunningServer, member: ApiClient) -> str:
    project = server.node.repos.identity.project(project_id=member.project_id)
    assert project is not None
    return project.name


def _create(client: ApiClient, volume_id: str, **fields: Any) -> Any:
    return client.volume("POST", "/attachments", version=V, json={"attachment": {"volume_uuid": volume_id, **fields}})


def _update(client: ApiClient, attachment_id: str, connector: Any = CONNECTOR) -> Any:
    return client.volume(
        "PUT", f"/attachments/{attachment_id}", version=V, json={"attachment": {"connector": connector}}
    )


def _complete(client: ApiClient, attachment_id: str) -> Any:
    return client.volume("POST", f"/attachments/{attachment_id}/action", version=V, json={"os-complete": {}})


def _status(client: ApiClient, volume_id: str) -> tuple[str, str]:
    volume = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    return volume["status"], volume.get("attach_status", "") or _attach_status(volume)


def _attach_status(volume: dict[str, Any]) -> str:
    return "attached" if volume["attachments"] else "detached"


def test_the_compute_flow_reserve_connect_complete_delete(
    server: RunningServer, member: ApiClient, compute: ApiClient
) -> None:
    volume = create_volume(member)
    server_id = str(uuid.uuid4())

    created = _create(compute, volume["id"], instance_uuid=server_id)
    assert created.status_code == 200, created.text
    attachment = created.json()["attachment"]
    assert attachment["status"] == "reserved" and attachment["instance"] == server_id
    assert attachment["connection_info"] == {} and attachment["attach_mode"] == "null"
    assert _status(member, volume["id"]) == ("reserved", "detached")

    updated = _update(compute, attachment["id"])
    assert updated.status_code == 200, updated.text
    info = updated.json()["attachment"]["connection_info"]
    # The host is told the real file and its format: what QEMU opens.
    path = file_backend(server).volume_path(volume["id"])
    assert info["driver_volume_type"] == "local"
    assert info["data"]["device_path"] == str(path) and Path(info["data"]["device_path"]).is_file()
    assert info["data"]["format"] == "raw" and info["data"]["access_mode"] == "rw"
    assert info["attachment_id"] == attachment["id"] and info["serial"] == volume["id"]
    assert _status(member, volume["id"])[0] == "attaching"

    assert _complete(compute, attachment["id"]).status_code == 204
    shown = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "in-use"
    [seen] = shown["attachments"]
    assert seen["server_id"] == server_id and seen["attachment_id"] == attachment["id"]
    assert seen["host_name"] == "compute-1" and seen["device"] == "/dev/vdb" and seen["attached_at"]
    assert shown["metadata"]["attached_mode"] == "rw"

    detail = compute.volume("GET", f"/attachments/{attachment['id']}", version=V).json()["attachment"]
    assert detail["status"] == "attached" and detail["attached_at"] and detail["detached_at"] == ""

    deleted = compute.volume("DELETE", f"/attachments/{attachment['id']}", version=V)
    assert deleted.status_code == 200 and deleted.json() == {"attachments": []}
    shown = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == [] and "attached_mode" not in shown["metadata"]


def test_a_connector_at_create_connects_at_once(member: ApiClient, compute: ApiClient) -> None:
    volume = create_volume(member)
    created = _create(compute, volume["id"], instance_uuid=str(uuid.uuid4()), connector=CONNECTOR, mode="ro")
    assert created.status_code == 200, created.text
    attachment = created.json()["attachment"]
    assert attachment["status"] == "attaching" and attachment["attach_mode"] == "ro"
    assert attachment["connection_info"]["data"]["access_mode"] == "ro"
    assert compute.volume("DELETE", f"/attachments/{attachment['id']}", version=V).status_code == 200
    assert _status(member, volume["id"])[0] == "available"


def test_a_second_server_cannot_reserve_a_volume_that_is_not_multiattach(member: ApiClient, compute: ApiClient) -> None:
    volume = create_volume(member)
    first = _create(compute, volume["id"], instance_uuid=str(uuid.uuid4())).json()["attachment"]
    message = fault(_create(compute, volume["id"], instance_uuid=str(uuid.uuid4())), 400)
    assert message == (
        f"Invalid volume: Volume {volume['id']} status must be available or downloading to reserve, "
        "but the current status is reserved."
    )
    # The same server may reserve again (a live migration's second host).
    again = _create(compute, volume["id"], instance_uuid=first["instance"])
    assert again.status_code == 200, again.text
    listed = compute.volume("GET", f"/attachments?volume_id={volume['id']}", version=V).json()["attachments"]
    assert {a["id"] for a in listed} == {first["id"], again.json()["attachment"]["id"]}
    for attachment in listed:
        compute.volume("DELETE", f"/attachments/{attachment['id']}", version=V)
    assert _status(member, volume["id"])[0] == "available"


def test_duplicate_connectors_on_a_single_attach_volume_are_409(member: ApiClient, compute: ApiClient) -> None:
    volume = create_volume(member)
    server_id = str(uuid.uuid4())
    first = _create(compute, volume["id"], instance_uuid=server_id, connector=CONNECTOR).json()["attachment"]
    assert _complete(compute, first["id"]).status_code == 204
    # A live migration's second host: the same server reserves the in-use volume again...
    second = _create(compute, volume["id"], instance_uuid=server_id).json()["attachment"]
    assert _status(member, volume["id"])[0] == "in-use"
    # ...but cannot connect a second host to a volume that is not multiattach.
    fault(_update(compute, second["id"], {**CONNECTOR, "host": "compute-2"}), 409)
    for attachment_id in (second["id"], first["id"]):
        assert compute.volume("DELETE", f"/attachments/{attachment_id}", version=V).status_code == 200


def test_a_user_cannot_pull_a_connected_volume_from_a_server(member: ApiClient, compute: ApiClient) -> None:
    """Bug #2004555: only the compute service may delete an attachment a host is connected through."""
    volume = create_volume(member)
    server_id = str(uuid.uuid4())
    attachment = _create(compute, volume["id"], instance_uuid=server_id, connector=CONNECTOR).json()["attachment"]
    assert _complete(compute, attachment["id"]).status_code == 204

    message = fault(member.volume("DELETE", f"/attachments/{attachment['id']}", version=V), 409)
    assert message == f"Detach volume from instance {server_id} using the Compute API"
    fault(
        member.volume(
            "POST", f"/volumes/{volume['id']}/action", json={"os-detach": {"attachment_id": attachment["id"]}}
        ),
        409,
    )
    fault(
        member.volume(
            "POST", f"/volumes/{volume['id']}/action", json={"os-terminate_connection": {"connector": CONNECTOR}}
        ),
        409,
    )
    assert _status(member, volume["id"])[0] == "in-use"  # nothing changed

    assert compute.volume("DELETE", f"/attachments/{attachment['id']}", version=V).status_code == 200
    assert _status(member, volume["id"])[0] == "available"


def test_a_member_may_drop_a_bare_reservation(member: ApiClient, compute: ApiClient) -> None:
    volume = create_volume(member)
    attachment = _create(member, volume["id"], instance_uuid=str(uuid.uuid4())).json()["attachment"]
    assert member.volume("DELETE", f"/attachments/{attachment['id']}", version=V).status_code == 200
    assert _status(member, volume["id"])[0] == "available"


def test_attachments_are_404_below_3_27_and_complete_below_3_44(member: ApiClient) -> None:
    volume = create_volume(member)
    fault(
        member.volume("POST", "/attachments", version="3.26", json={"attachment": {"volume_uuid": volume["id"]}}), 404
    )
    fault(member.volume("GET", "/attachments", version="3.26"), 404)
    attachment = _create(member, volume["id"]).json()["attachment"]
    fault(
        member.volume("POST", f"/attachments/{attachment['id']}/action", version="3.43", json={"os-complete": {}}), 404
    )
    member.volume("DELETE", f"/attachments/{attachment['id']}", version=V)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"attachment": {}},
        {"attachment": {"volume_uuid": "not-a-uuid"}},
        {"attachment": {"volume_uuid": MISSING_ID, "instance_uuid": "nope"}},
        {"attachment": {"volume_uuid": MISSING_ID, "mode": "rx"}},
        {"attachment": {"volume_uuid": MISSING_ID, "surprise": 1}},
    ],
)
def test_malformed_creates_are_400(member: ApiClient, body: Any) -> None:
    fault(member.volume("POST", "/attachments", version=V, json=body), 400)


def test_mode_is_an_extra_key_below_3_54(member: ApiClient) -> None:
    volume = create_volume(member)
    body = {"attachment": {"volume_uuid": volume["id"], "mode": "ro"}}
    fault(member.volume("POST", "/attachments", version="3.53", json=body), 400)
    assert _status(member, volume["id"])[0] == "available"


def test_create_refusals(member: ApiClient, admin: ApiClient) -> None:
    fault(_create(member, MISSING_ID), 404)
    volume = create_volume(member)
    admin.volume("POST", f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "error"}})
    message = fault(_create(member, volume["id"]), 400)
    assert "can not be created if the volume is in an error state" in message
    admin.volume("POST", f"/volumes/{volume['id']}/action", json={"os-reset_status": {"status": "available"}})


def test_update_refusals(member: ApiClient, other: ApiClient) -> None:
    volume = create_volume(member)
    attachment = _create(member, volume["id"]).json()["attachment"]
    fault(_update(member, attachment["id"], {}), 400)
    fault(_update(member, MISSING_ID), 404)
    fault(_update(other, attachment["id"]), 404)  # another project's attachment does not exist for it
    fault(other.volume("GET", f"/attachments/{attachment['id']}", version=V), 404)
    fault(other.volume("DELETE", f"/attachments/{attachment['id']}", version=V), 404)
    assert other.volume("GET", "/attachments", version=V).json()["attachments"] == [] or all(
        a["id"] != attachment["id"] for a in other.volume("GET", "/attachments", version=V).json()["attachments"]
    )
    member.volume("DELETE", f"/attachments/{attachment['id']}", version=V)


def test_listing_filters_and_admin_all_tenants(server: RunningServer, member: ApiClient, admin: ApiClient) -> None:
    first, second = create_volume(member), create_volume(member)
    a1 = _create(member, first["id"]).json()["attachment"]
    a2 = _create(member, second["id"]).json()["attachment"]
    mine = member.volume("GET", "/attachments/detail", version=V).json()["attachments"]
    assert {a["id"] for a in mine} == {a1["id"], a2["id"]}
    assert set(mine[0]) == {"id", "status", "instance", "volume_id", "attached_at", "detached_at", "attach_mode",
                            "connection_info"}  # fmt: skip
    only = member.volume("GET", f"/attachments?volume_id={first['id']}", version=V).json()["attachments"]
    assert [a["id"] for a in only] == [a1["id"]] and set(only[0]) == {"id", "status", "instance", "volume_id"}
    limited = member.volume("GET", "/attachments?limit=1", version=V).json()["attachments"]
    assert len(limited) == 1
    everyone = admin.volume("GET", "/attachments?all_tenants=1", version=V).json()["attachments"]
    assert {a1["id"], a2["id"]} <= {a["id"] for a in everyone}
    for attachment in (a1, a2):
        member.volume("DELETE", f"/attachments/{attachment['id']}", version=V)

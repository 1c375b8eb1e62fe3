"""The legacy attach flow as tempest drives it: os-reserve/unreserve, os-attach/os-detach,
begin/roll detaching, initialize/terminate connection, and an admin's os-force_detach."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.volume._helpers import MISSING_ID, create_volume, fault, file_backend, fresh_member
from tests.conftest import ApiClient, RunningServer


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def _act(client: ApiClient, volume_id: str, body: Any) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", json=body)


def _show(client: ApiClient, volume_id: str) -> dict[str, Any]:
    volume: dict[str, Any] = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    return volume


def _attach(client: ApiClient, volume_id: str, **fields: Any) -> Any:
    return _act(client, volume_id, {"os-attach": {"mountpoint": "/dev/vdb", **fields}})


def test_attach_then_detach_as_tempest_does(member: ApiClient) -> None:
    volume = create_volume(member)
    server_id = str(uuid.uuid4())
    assert _attach(member, volume["id"], instance_uuid=server_id).status_code == 202
    shown = _show(member, volume["id"])
    assert shown["status"] == "in-use"
    [attachment] = shown["attachments"]
    assert attachment["device"] == "/dev/vdb" and attachment["server_id"] == server_id
    assert attachment["id"] == attachment["volume_id"] == volume["id"]
    # Attaching the same server again changes nothing.
    assert _attach(member, volume["id"], instance_uuid=server_id).status_code == 202
    assert len(_show(member, volume["id"])["attachments"]) == 1
    # A delete of an attached volume is refused.
    fault(member.volume("DELETE", f"/volumes/{volume['id']}"), 400)

    assert _act(member, volume["id"], {"os-detach": {}}).status_code == 202
    shown = _show(member, volume["id"])
    assert shown["status"] == "available" and shown["attachments"] == []


def test_a_second_server_is_refused_unless_multiattach(member: ApiClient) -> None:
    volume = create_volume(member)
    assert _attach(member, volume["id"], instance_uuid=str(uuid.uuid4())).status_code == 202
    message = fault(_attach(member, volume["id"], instance_uuid=str(uuid.uuid4())), 400)
    assert "already attached" in message
    assert _act(member, volume["id"], {"os-detach": None}).status_code == 202


def test_attach_by_host_name_and_read_only_mode(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member)
    assert _act(member, volume["id"], {"os-update_readonly_flag": {"readonly": True}}).status_code == 202
    message = fault(_attach(member, volume["id"], host_name="baremetal-1"), 400)
    assert "read-only" in message
    assert _attach(member, volume["id"], host_name="baremetal-1", mode="ro").status_code == 202
    shown = _show(member, volume["id"])
    assert shown["attachments"][0]["host_name"] == "baremetal-1" and shown["metadata"]["attached_mode"] == "ro"
    attachment_id = shown["attachments"][0]["attachment_id"]
    assert _act(member, volume["id"], {"os-detach": {"attachment_id": attachment_id}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"mountpoint": "/dev/vdb"},
        {"mountpoint": "", "host_name": "h"},
        {"mountpoint": "/dev/vdb", "instance_uuid": "not-a-uuid"},
        {"mountpoint": "/dev/vdb", "host_name": "h", "mode": "rx"},
        {"mountpoint": "/dev/vdb", "host_name": "h", "extra": 1},
    ],
)
def test_malformed_attach_is_400_and_changes_nothing(member: ApiClient, spec: dict[str, Any]) -> None:
    volume = create_volume(member)
    fault(_act(member, volume["id"], {"os-attach": spec}), 400)
    assert _show(member, volume["id"])["status"] == "available"


def test_attach_detach_reserve_of_a_missing_volume_are_404(member: ApiClient) -> None:
    fault(_attach(member, MISSING_ID, host_name="h"), 404)
    fault(_act(member, MISSING_ID, {"os-detach": {}}), 404)
    fault(_act(member, MISSING_ID, {"os-reserve": {}}), 404)
    fault(_act(member, MISSING_ID, {"os-unreserve": {}}), 404)


def test_reserve_unreserve_as_tempest_does(member: ApiClient) -> None:
    volume = create_volume(member)
    assert _act(member, volume["id"], {"os-reserve": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "attaching"
    message = fault(_act(member, volume["id"], {"os-reserve": {}}), 400)  # reserving twice
    assert message == "Invalid volume: Volume status must be available to reserve, but the status is attaching."
    assert _act(member, volume["id"], {"os-unreserve": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"
    # Unreserving a volume that is not attaching is a no-op.
    assert _act(member, volume["id"], {"os-unreserve": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"


def test_reserve_attach_is_the_old_novas_flow(member: ApiClient) -> None:
    volume = create_volume(member)
    assert _act(member, volume["id"], {"os-reserve": {}}).status_code == 202
    assert _attach(member, volume["id"], instance_uuid=str(uuid.uuid4())).status_code == 202
    assert _show(member, volume["id"])["status"] == "in-use"
    assert _act(member, volume["id"], {"os-begin_detaching": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "detaching"
    assert _act(member, volume["id"], {"os-roll_detaching": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "in-use"
    assert _act(member, volume["id"], {"os-begin_detaching": {}}).status_code == 202
    assert _act(member, volume["id"], {"os-detach": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"


def test_begin_detaching_needs_an_attached_volume(member: ApiClient) -> None:
    volume = create_volume(member)
    message = fault(_act(member, volume["id"], {"os-begin_detaching": {}}), 400)
    assert "Volume status must be 'in-use'" in message
    assert _show(member, volume["id"])["status"] == "available"


def test_initialize_connection_hands_out_the_file(server: RunningServer, member: ApiClient) -> None:
    volume = create_volume(member)
    response = _act(member, volume["id"], {"os-initialize_connection": {"connector": {"host": "h1"}}})
    assert response.status_code == 200, response.text
    info = response.json()["connection_info"]
    assert info["driver_volume_type"] == "local" and info["enforce_multipath"] is False
    assert info["data"]["device_path"] == str(file_backend(server).volume_path(volume["id"]))
    fault(_act(member, volume["id"], {"os-initialize_connection": {}}), 400)
    assert _act(member, volume["id"], {"os-terminate_connection": {"connector": {"host": "h1"}}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"


def test_detach_with_another_volumes_attachment_is_400(member: ApiClient) -> None:
    first, second = create_volume(member), create_volume(member)
    assert _attach(member, first["id"], host_name="h").status_code == 202
    attachment_id = _show(member, first["id"])["attachments"][0]["attachment_id"]
    message = fault(_act(member, second["id"], {"os-detach": {"attachment_id": attachment_id}}), 400)
    assert message == "Invalid volume: Mismatched volume and attachment"
    fault(_act(member, first["id"], {"os-detach": {"attachment_id": MISSING_ID}}), 404)
    assert _show(member, first["id"])["status"] == "in-use"
    assert _act(member, first["id"], {"os-detach": {}}).status_code == 202


def test_force_detach_as_tempest_does(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member)
    assert _attach(member, volume["id"], instance_uuid=str(uuid.uuid4())).status_code == 202
    attachment_id = _show(member, volume["id"])["attachments"][0]["attachment_id"]
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    fault(_act(member, volume["id"], {"os-force_detach": {"attachment_id": attachment_id}}), 403)
    fault(_act(admin, volume["id"], {"os-force_detach": {"surprise": 1}}), 400)
    body = {"os-force_detach": {"connector": None, "attachment_id": attachment_id}}
    assert _act(admin, volume["id"], body).status_code == 202
    shown = _show(member, volume["id"])
    assert shown["status"] == "available" and shown["attachments"] == []


def test_force_detach_rolls_back_a_stuck_detach(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member)
    assert _attach(member, volume["id"], host_name="h").status_code == 202
    assert _act(member, volume["id"], {"os-begin_detaching": {}}).status_code == 202
    assert _act(admin, volume["id"], {"os-force_detach": {}}).status_code == 202
    assert _show(member, volume["id"])["status"] == "available"


def test_reset_status_to_in_use_needs_attachments_and_detached_drops_them(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member)
    message = fault(_act(admin, volume["id"], {"os-reset_status": {"status": "in-use"}}), 400)
    assert message == "Cannot reset-state to in-use because volume does not have any attachments."
    assert _attach(member, volume["id"], host_name="h").status_code == 202
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "in-use"}}).status_code == 202
    reset = {"os-reset_status": {"status": "available", "attach_status": "detached"}}
    assert _act(admin, volume["id"], reset).status_code == 202
    shown = _show(member, volume["id"])
    assert shown["status"] == "available" and shown["attachments"] == []
    assert admin.volume("GET", f"/attachments?volume_id={volume['id']}", version="3.27").json()["attachments"] == []


def test_attach_actions_of_another_project_are_404(member: ApiClient, other: ApiClient) -> None:
    volume = create_volume(member)
    fault(_attach(other, volume["id"], host_name="h"), 404)
    fault(_act(other, volume["id"], {"os-reserve": {}}), 404)
    assert _show(member, volume["id"])["status"] == "available"

"""``/servers/{id}/os-volume_attachments`` on the fake hypervisor: Nova's rules, both APIs agreeing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from firebrick.domain.identity import Account, ensure_account
from tests.api.compute._helpers import attach, create_server, delete_server, detach, public_image, server_status, wait
from tests.api.volume._helpers import MEMBER_PASSWORD, MISSING_ID, create_volume, fault, fresh_member, unique
from tests.conftest import ApiClient, RunningServer, api_client


@pytest.fixture(scope="module")
def image(admin: ApiClient) -> str:
    return public_image(admin)


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


@pytest.fixture
def guest(member: ApiClient, image: str) -> Iterator[str]:
    server_id = create_server(member, image)
    yield server_id
    delete_server(member, server_id)


def _attachments(client: ApiClient, server_id: str, version: str | None = None) -> list[dict[str, object]]:
    response = client.compute("GET", f"/servers/{server_id}/os-volume_attachments", version=version)
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()["volumeAttachments"]
    return found


def test_attach_list_show_detach_as_tempest_does(member: ApiClient, guest: str) -> None:
    volume = create_volume(member)
    answer = attach(member, guest, volume["id"])
    assert answer == {"id": volume["id"], "serverId": guest, "volumeId": volume["id"], "device": "/dev/vdb"}
    assert _attachments(member, guest) == [answer]
    shown = member.compute("GET", f"/servers/{guest}/os-volume_attachments/{volume['id']}")
    assert shown.json()["volumeAttachment"] == answer
    # The block-storage side agrees: one attachment, to this server, at this device.
    [seen] = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["attachments"]
    assert (seen["server_id"], seen["device"]) == (guest, "/dev/vdb")
    second = create_volume(member)
    assert attach(member, guest, second["id"])["device"] == "/dev/vdc"
    assert len(_attachments(member, guest)) == 2
    detach(member, guest, volume["id"])
    detach(member, guest, second["id"])
    assert _attachments(member, guest) == []
    fault(member.compute("GET", f"/servers/{guest}/os-volume_attachments/{volume['id']}"), 404)


def test_response_fields_follow_the_microversion(member: ApiClient, guest: str) -> None:
    volume = create_volume(member)
    answer = attach(member, guest, volume["id"], version="2.79", tag="data", delete_on_termination=True)
    assert answer["tag"] == "data" and answer["delete_on_termination"] is True
    [at_270] = _attachments(member, guest, "2.70")
    assert set(at_270) == {"id", "volumeId", "serverId", "device", "tag"}
    [at_289] = _attachments(member, guest, "2.89")
    assert set(at_289) == {
        "volumeId",
        "serverId",
        "device",
        "tag",
        "delete_on_termination",
        "attachment_id",
        "bdm_uuid",
    }
    cinder = member.volume("GET", "/attachments", version="3.27").json()["attachments"]
    assert at_289["attachment_id"] in {a["id"] for a in cinder}
    detach(member, guest, volume["id"])


def test_an_attached_volume_is_400_on_the_same_or_another_server(member: ApiClient, guest: str, image: str) -> None:
    volume = create_volume(member)
    attach(member, guest, volume["id"])
    body = {"volumeAttachment": {"volumeId": volume["id"]}}
    again = member.compute("POST", f"/servers/{guest}/os-volume_attachments", json=body)
    assert "is already attached to instances" in fault(again, 400)
    other_server = create_server(member, image)
    fault(member.compute("POST", f"/servers/{other_server}/os-volume_attachments", json=body), 400)
    # Deleting an attached volume through the block-storage API is refused too.
    fault(member.volume("DELETE", f"/volumes/{volume['id']}"), 400)
    detach(member, guest, volume["id"])
    delete_server(member, other_server)


def test_attach_refusals(member: ApiClient, other: ApiClient, guest: str) -> None:
    fault(member.compute("POST", f"/servers/{guest}/os-volume_attachments", json={"volumeAttachment": {}}), 400)
    missing = {"volumeAttachment": {"volumeId": MISSING_ID}}
    fault(member.compute("POST", f"/servers/{guest}/os-volume_attachments", json=missing), 404)
    fault(member.compute("POST", f"/servers/{MISSING_ID}/os-volume_attachments", json=missing), 404)
    theirs = create_volume(other)
    fault(
        member.compute(
            "POST", f"/servers/{guest}/os-volume_attachments", json={"volumeAttachment": {"volumeId": theirs["id"]}}
        ),
        404,
    )  # another project's volume does not exist for this user
    fault(other.compute("GET", f"/servers/{guest}/os-volume_attachments"), 404)
    tagged = {"volumeAttachment": {"volumeId": theirs["id"], "tag": "x"}}
    fault(member.compute("POST", f"/servers/{guest}/os-volume_attachments", json=tagged), 400)  # tag needs 2.49
    other.volume("DELETE", f"/volumes/{theirs['id']}")


def test_detach_refusals(member: ApiClient, guest: str) -> None:
    volume = create_volume(member)
    message = fault(member.compute("DELETE", f"/servers/{guest}/os-volume_attachments/{volume['id']}"), 404)
    assert message == f"Instance {guest} is not attached to volume {volume['id']}"
    fault(member.compute("DELETE", f"/servers/{guest}/os-volume_attachments/{MISSING_ID}"), 404)


def test_a_stopped_server_keeps_its_volumes_and_gets_new_ones(member: ApiClient, guest: str) -> None:
    first = create_volume(member)
    attach(member, guest, first["id"])
    assert member.compute("POST", f"/servers/{guest}/action", json={"os-stop": None}).status_code == 202
    wait(lambda: server_status(member, guest) == "SHUTOFF", "shutoff")
    second = create_volume(member)
    attach(member, guest, second["id"])
    assert member.compute("POST", f"/servers/{guest}/action", json={"os-start": None}).status_code == 202
    wait(lambda: server_status(member, guest) == "ACTIVE", "active")
    console = member.compute("POST", f"/servers/{guest}/action", json={"os-getConsoleOutput": {}}).json()["output"]
    assert f"DISK {second['id'][:20]} 1073741824" in console
    detach(member, guest, first["id"])
    detach(member, guest, second["id"])


def test_attach_while_shelved_offloaded_needs_2_20_and_gets_its_device_on_unshelve(
    member: ApiClient, guest: str
) -> None:
    assert member.compute("POST", f"/servers/{guest}/action", json={"shelve": None}).status_code == 202
    wait(lambda: server_status(member, guest) == "SHELVED_OFFLOADED", "offloaded")
    volume = create_volume(member)
    body = {"volumeAttachment": {"volumeId": volume["id"]}}
    fault(member.compute("POST", f"/servers/{guest}/os-volume_attachments", json=body), 409)
    answer = attach(member, guest, volume["id"], version="2.20")
    assert answer["device"] is None
    assert member.compute("POST", f"/servers/{guest}/action", json={"unshelve": None}).status_code == 202
    wait(lambda: server_status(member, guest) == "ACTIVE", "active")
    [shown] = _attachments(member, guest)
    assert shown["device"] == "/dev/vdb"
    detach(member, guest, volume["id"])


def test_deleting_a_server_releases_its_volumes_and_honours_delete_on_termination(
    member: ApiClient, image: str
) -> None:
    server_id = create_server(member, image)
    kept, dropped = create_volume(member), create_volume(member)
    attach(member, server_id, kept["id"])
    attach(member, server_id, dropped["id"], version="2.79", delete_on_termination=True)
    delete_server(member, server_id)
    wait(lambda: member.volume("GET", f"/volumes/{kept['id']}").json()["volume"]["status"] == "available", "kept")
    member.wait_gone(f"/volumes/{dropped['id']}")


def test_update_at_2_85_changes_delete_on_termination_only(member: ApiClient, guest: str) -> None:
    volume = create_volume(member)
    attach(member, guest, volume["id"])
    path = f"/servers/{guest}/os-volume_attachments/{volume['id']}"
    keep = {"volumeAttachment": {"volumeId": volume["id"], "delete_on_termination": True}}
    assert member.compute("PUT", path, version="2.85", json=keep).status_code == 202
    [shown] = _attachments(member, guest, "2.85")
    assert shown["delete_on_termination"] is True
    moved = {"volumeAttachment": {"volumeId": volume["id"], "device": "/dev/vdz"}}
    assert fault(member.compute("PUT", path, version="2.85", json=moved), 400) == "The device property is not mutable"
    detach(member, guest, volume["id"])


class TestSwapIsOnlyForMigrations:
    """Seed 002 / Nova bug #2112187: a swap outside a storage-side migration is refused and changes nothing."""

    def test_a_member_may_not_swap(self, member: ApiClient, guest: str) -> None:
        old, new = create_volume(member), create_volume(member)
        attach(member, guest, old["id"])
        body = {"volumeAttachment": {"volumeId": new["id"]}}
        fault(member.compute("PUT", f"/servers/{guest}/os-volume_attachments/{old['id']}", json=body), 403)
        fault(
            member.compute("PUT", f"/servers/{guest}/os-volume_attachments/{old['id']}", version="2.85", json=body), 403
        )
        detach(member, guest, old["id"])

    def test_an_admin_direct_swap_is_409_and_nothing_changes(
        self, server: RunningServer, member: ApiClient, guest: str
    ) -> None:
        name = unique("svc")
        project = server.node.repos.identity.project(project_id=member.project_id)
        assert project is not None
        ensure_account(server.node.repos.identity, Account(name, project.name, MEMBER_PASSWORD, ("admin", "service")))
        service = api_client(server, name, MEMBER_PASSWORD, project.name)
        old, new = create_volume(member), create_volume(member)
        attach(member, guest, old["id"])
        body = {"volumeAttachment": {"volumeId": new["id"]}}
        refused = service.compute("PUT", f"/servers/{guest}/os-volume_attachments/{old['id']}", json=body)
        assert fault(refused, 409) == f"volume {old['id']} is not migrating; this API should only be called by Cinder"
        # Even a body naming a volume that does not exist gets the 409 first (the check comes before the lookup).
        ghost = {"volumeAttachment": {"volumeId": str(uuid.uuid4())}}
        fault(service.compute("PUT", f"/servers/{guest}/os-volume_attachments/{old['id']}", json=ghost), 409)
        [still] = _attachments(member, guest)
        assert still["volumeId"] == old["id"]
        assert member.volume("GET", f"/volumes/{old['id']}").json()["volume"]["status"] == "in-use"
        assert member.volume("GET", f"/volumes/{new['id']}").json()["volume"]["status"] == "available"
        fault(service.compute("PUT", f"/servers/{guest}/os-volume_attachments/{MISSING_ID}", json=body), 404)
        service.http.close()
        detach(member, guest, old["id"])

    def test_a_multiattach_volume_with_two_writers_is_400_and_nothing_changes(
        self, server: RunningServer, member: ApiClient, admin: ApiClient, image: str
    ) -> None:
        made = admin.volume("POST", "/types", json={"volume_type": {"name": unique("multi")}})
        type_id = made.json()["volume_type"]["id"]
        specs = {"extra_specs": {"multiattach": "<is> True"}}
        assert admin.volume("POST", f"/types/{type_id}/extra_specs", json=specs).status_code == 200
        shared, new = create_volume(member, volume_type=type_id), create_volume(member)
        first, second = create_server(member, image), create_server(member, image)
        attach(member, first, shared["id"], version="2.60")
        attach(member, second, shared["id"], version="2.60")
        # As during a migration, so the swap gets past the first check (seed 002) to this one.
        reset = {"os-reset_status": {"migration_status": "migrating"}}
        assert admin.volume("POST", f"/volumes/{shared['id']}/action", json=reset).status_code == 202
        name = unique("svc")
        project = server.node.repos.identity.project(project_id=member.project_id)
        assert project is not None
        ensure_account(server.node.repos.identity, Account(name, project.name, MEMBER_PASSWORD, ("admin", "service")))
        service = api_client(server, name, MEMBER_PASSWORD, project.name)
        body = {"volumeAttachment": {"volumeId": new["id"]}}
        refused = service.compute("PUT", f"/servers/{first}/os-volume_attachments/{shared['id']}", json=body)
        assert fault(refused, 400) == (
            "Swapping multi-attach volumes with more than one read/write attachment is not supported."
        )
        service.http.close()
        for server_id in (first, second):
            assert [a["volumeId"] for a in _attachments(member, server_id)] == [shared["id"]]
        after = member.volume("GET", f"/volumes/{shared['id']}").json()["volume"]
        assert (after["status"], len(after["attachments"])) == ("in-use", 2)
        assert member.volume("GET", f"/volumes/{new['id']}").json()["volume"]["status"] == "available"
        reset = {"os-reset_status": {"migration_status": "none"}}
        assert admin.volume("POST", f"/volumes/{shared['id']}/action", json=reset).status_code == 202
        delete_server(member, first)
        delete_server(member, second)


def test_a_multiattach_volume_joins_two_servers_from_2_60(member: ApiClient, admin: ApiClient, image: str) -> None:
    made = admin.volume("POST", "/types", json={"volume_type": {"name": unique("multi")}})
    assert made.status_code == 200, made.text
    type_id = made.json()["volume_type"]["id"]
    specs = {"extra_specs": {"multiattach": "<is> True"}}
    assert admin.volume("POST", f"/types/{type_id}/extra_specs", json=specs).status_code == 200
    volume = create_volume(member, volume_type=type_id)
    assert volume["multiattach"] is True
    first, second = create_server(member, image), create_server(member, image)
    body = {"volumeAttachment": {"volumeId": volume["id"]}}
    message = fault(member.compute("POST", f"/servers/{first}/os-volume_attachments", json=body), 400)
    assert message == "Multiattach volumes are only supported starting with compute API version 2.60."
    attach(member, first, volume["id"], version="2.60")
    attach(member, second, volume["id"], version="2.60")
    seen = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["attachments"]
    assert {a["server_id"] for a in seen} == {first, second}
    again = member.compute("POST", f"/servers/{first}/os-volume_attachments", version="2.60", json=body)
    assert fault(again, 400) == f"Invalid volume: volume {volume['id']} already attached"
    member.compute("DELETE", f"/servers/{first}/os-volume_attachments/{volume['id']}")
    wait(lambda: len(member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["attachments"]) == 1, "one left")
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "in-use"
    detach(member, second, volume["id"])
    delete_server(member, first)
    delete_server(member, second)

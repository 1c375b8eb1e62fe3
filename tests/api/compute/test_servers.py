"""``/servers`` on the fake hypervisor: create, show, list, power, shelve, lock, console, delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.compute._helpers import create_server, delete_server, public_image, server_status, wait
from tests.api.volume._helpers import MISSING_ID, create_volume, fault, fresh_member
from tests.conftest import ApiClient, RunningServer


@pytest.fixture(scope="module")
def image(admin: ApiClient) -> str:
    return public_image(admin)


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def _act(client: ApiClient, server_id: str, body: object, version: str | None = None) -> object:
    return client.compute("POST", f"/servers/{server_id}/action", version=version, json=body)


def test_create_answers_as_tempest_expects_and_the_server_becomes_active(member: ApiClient, image: str) -> None:
    response = member.compute("POST", "/servers", json={"server": {"name": "s", "flavorRef": "1", "imageRef": image}})
    assert response.status_code == 202, response.text
    assert response.headers["x-openstack-request-id"].startswith("req-")
    assert response.headers["openstack-api-version"] == "compute 2.1"
    assert response.headers["x-openstack-nova-api-version"] == "2.1"
    body = response.json()["server"]
    assert set(body) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert response.headers["location"].endswith(f"/servers/{body['id']}")
    wait(lambda: server_status(member, body["id"]) == "ACTIVE", "active")
    shown = member.compute("GET", f"/servers/{body['id']}").json()["server"]
    assert shown["image"]["id"] == image and shown["flavor"]["id"] == "1"
    assert shown["OS-EXT-STS:vm_state"] == "active" and shown["OS-EXT-STS:power_state"] == 1
    assert "OS-EXT-SRV-ATTR:host" not in shown  # admin only
    listed = member.compute("GET", "/servers").json()["servers"]
    assert [s["id"] for s in listed] == [body["id"]] and set(listed[0]) == {"id", "name", "links"}
    delete_server(member, body["id"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "s", "flavorRef": "nope", "imageRef": MISSING_ID}, "Flavor nope could not be found."),
        ({"name": "s", "flavorRef": "1", "imageRef": MISSING_ID}, f"Image {MISSING_ID} could not be found."),
        ({"name": "s", "flavorRef": "1"}, "Missing imageRef attribute"),
        ({"flavorRef": "1"}, None),
        ({"name": "", "flavorRef": "1"}, None),
    ],
)
def test_bad_creates_are_400(member: ApiClient, spec: dict[str, object], message: str | None) -> None:
    text = fault(member.compute("POST", "/servers", json={"server": spec}), 400)
    if message:
        assert text == message
    assert member.compute("GET", "/servers").json()["servers"] == []


def test_one_request_makes_several_servers_under_one_reservation(member: ApiClient, image: str) -> None:
    spec = {"name": "many", "flavorRef": "1", "imageRef": image, "min_count": 2, "max_count": 3}
    response = member.compute("POST", "/servers", json={"server": {**spec, "return_reservation_id": True}})
    assert response.status_code == 202, response.text
    reservation = response.json()["reservation_id"]
    assert list(response.json()) == ["reservation_id"] and reservation.startswith("r-")

    made = member.compute("GET", f"/servers?reservation_id={reservation}").json()["servers"]
    assert sorted(s["name"] for s in made) == ["many-1", "many-2", "many-3"]
    one = member.compute("POST", "/servers", json={"server": {"name": "one", "flavorRef": "1", "imageRef": image}})
    assert one.status_code == 202 and "reservation_id" not in one.json()
    for created in made:
        wait(lambda s=created["id"]: server_status(member, s) == "ACTIVE", "active")
        delete_server(member, created["id"])
    delete_server(member, one.json()["server"]["id"])


def test_several_servers_cannot_share_boot_volumes(member: ApiClient, image: str) -> None:
    volume = create_volume(member)
    bdm = [{"uuid": volume["id"], "source_type": "volume", "destination_type": "volume", "boot_index": 0}]
    spec = {"name": "x", "flavorRef": "1", "min_count": 2, "block_device_mapping_v2": bdm}
    text = fault(member.compute("POST", "/servers", json={"server": spec}), 400)
    assert text == "Cannot attach one or more volumes to multiple instances"
    bad = {"name": "x", "flavorRef": "1", "imageRef": image, "min_count": 3, "max_count": 2}
    assert fault(member.compute("POST", "/servers", json={"server": bad}), 400) == "min_count must be <= max_count"
    assert member.compute("GET", "/servers").json()["servers"] == []


def test_boot_from_volume_maps_the_volume_as_vda(member: ApiClient) -> None:
    volume = create_volume(member)
    bdm = [{"source_type": "volume", "destination_type": "volume", "uuid": volume["id"], "boot_index": 0,
            "delete_on_termination": True}]  # fmt: skip
    server_id = create_server(member, block_device_mapping_v2=bdm)
    shown = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "in-use" and shown["attachments"][0]["device"] == "/dev/vda"
    attached = member.compute("GET", f"/servers/{server_id}", version="2.3").json()["server"]
    assert attached["os-extended-volumes:volumes_attached"] == [{"id": volume["id"], "delete_on_termination": True}]
    assert attached["image"] == ""
    # The root disk cannot be detached; delete_on_termination deletes the volume with the server.
    fault(member.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{volume['id']}"), 400)
    delete_server(member, server_id)
    member.wait_gone(f"/volumes/{volume['id']}")


def test_stop_start_reboot_and_their_conflicts(member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    assert _act(member, server_id, {"os-stop": None}).status_code == 202
    wait(lambda: server_status(member, server_id) == "SHUTOFF", "shutoff")
    message = fault(_act(member, server_id, {"os-stop": None}), 409)
    assert message == f"Cannot 'stop' instance {server_id} while it is in vm_state stopped"
    fault(_act(member, server_id, {"reboot": {"type": "HARD"}}), 409)
    assert _act(member, server_id, {"os-start": None}).status_code == 202
    wait(lambda: server_status(member, server_id) == "ACTIVE", "active")
    assert _act(member, server_id, {"reboot": {"type": "HARD"}}).status_code == 202
    wait(lambda: server_status(member, server_id) == "ACTIVE", "active again")
    actions = member.compute("GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions] == ["reboot", "start", "stop", "create"]
    delete_server(member, server_id)


def test_a_locked_server_refuses_its_project_but_not_an_admin(member: ApiClient, admin: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    assert _act(member, server_id, {"lock": {"locked_reason": "maintenance"}}, version="2.73").status_code == 202
    shown = member.compute("GET", f"/servers/{server_id}", version="2.73").json()["server"]
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance"
    assert fault(_act(member, server_id, {"os-stop": None}), 409) == f"Instance {server_id} is locked"
    fault(member.compute("DELETE", f"/servers/{server_id}"), 409)
    assert _act(admin, server_id, {"os-stop": None}).status_code == 202
    wait(lambda: server_status(member, server_id) == "SHUTOFF", "shutoff")
    assert _act(member, server_id, {"unlock": None}).status_code == 202
    delete_server(member, server_id)


def test_shelve_then_unshelve(member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    assert _act(member, server_id, {"shelve": None}).status_code == 202
    wait(lambda: server_status(member, server_id) == "SHELVED_OFFLOADED", "offloaded")
    assert _act(member, server_id, {"unshelve": None}).status_code == 202
    wait(lambda: server_status(member, server_id) == "ACTIVE", "active")
    delete_server(member, server_id)


def test_console_output_shows_what_the_guest_reported(member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    output = _act(member, server_id, {"os-getConsoleOutput": {"length": 1}})
    assert output.status_code == 200, output.text
    assert output.json()["output"].strip().splitlines() == ["GUEST-READY"]
    fault(_act(member, server_id, {"os-getConsoleOutput": {"length": "many"}}), 400)
    delete_server(member, server_id)


def test_other_projects_servers_are_404_and_unknown_actions_400(
    member: ApiClient, other: ApiClient, image: str
) -> None:
    server_id = create_server(member, image)
    fault(other.compute("GET", f"/servers/{server_id}"), 404)
    fault(other.compute("DELETE", f"/servers/{server_id}"), 404)
    fault(_act(member, server_id, {"os-fly": None}), 400)
    fault(member.compute("GET", f"/servers/{MISSING_ID}"), 404)
    delete_server(member, server_id)


def test_versions_and_microversions(server: RunningServer, member: ApiClient) -> None:
    root = member.http.get("/compute/")
    assert root.status_code == 200 and [v["id"] for v in root.json()["versions"]] == ["v2.0", "v2.1"]
    v21 = member.http.get("/compute/v2.1").json()["version"]
    assert (v21["min_version"], v21["version"]) == ("2.1", "2.89")
    latest = member.compute("GET", "/servers", version="latest")
    assert latest.headers["openstack-api-version"] == "compute 2.89"
    legacy = member.http.get("/compute/v2.1/servers", headers={"X-OpenStack-Nova-API-Version": "2.60"})
    assert legacy.headers["x-openstack-nova-api-version"] == "2.60"
    fault(member.compute("GET", "/servers", version="2.200"), 406)


def test_flavors_list_and_admin_create_delete(member: ApiClient, admin: ApiClient) -> None:
    names = [f["name"] for f in member.compute("GET", "/flavors").json()["flavors"]]
    assert names == ["m1.tiny", "m1.small", "m1.medium"]
    body = {"flavor": {"name": "m1.test", "id": "t1", "ram": 128, "vcpus": 1, "disk": 1}}
    fault(member.compute("POST", "/flavors", json=body), 403)
    made = admin.compute("POST", "/flavors", json=body)
    assert made.status_code == 200 and made.json()["flavor"]["ram"] == 128
    fault(admin.compute("POST", "/flavors", json=body), 409)
    assert admin.compute("DELETE", "/flavors/t1").status_code == 202
    fault(admin.compute("GET", "/flavors/t1"), 404)

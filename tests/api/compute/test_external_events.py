"""``os-server-external-events`` and the instance actions they leave, on the fake hypervisor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.api.compute._helpers import attach, create_server, delete_server, detach, public_image, volume_status, wait
from tests.api.volume._helpers import create_volume, fault, fresh_member
from tests.conftest import ApiClient, RunningServer


@pytest.fixture(scope="module")
def image(admin: ApiClient) -> str:
    return public_image(admin)


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def _events(client: ApiClient, events: list[dict[str, object]], version: str | None = None) -> object:
    return client.compute("POST", "/os-server-external-events", version=version, json={"events": events})


def test_network_changed_as_tempest_sends_it(admin: ApiClient, member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    answer = _events(admin, [{"name": "network-changed", "server_uuid": server_id}])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "events": [{"name": "network-changed", "server_uuid": server_id, "status": "completed", "code": 200}]
    }
    delete_server(member, server_id)


def test_per_event_codes_and_207(admin: ApiClient, member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    missing = str(uuid.uuid4())
    answer = _events(
        admin,
        [
            {"name": "network-changed", "server_uuid": server_id, "tag": "port"},
            {"name": "network-changed", "server_uuid": missing},
            {"name": "volume-extended", "server_uuid": server_id},
        ],
        version="2.51",
    )
    assert answer.status_code == 207
    codes = [(e["code"], e["status"]) for e in answer.json()["events"]]
    assert codes == [(200, "completed"), (404, "failed"), (400, "failed")]
    assert answer.json()["events"][0]["tag"] == "port"
    delete_server(member, server_id)


def test_event_names_follow_the_microversion_and_members_are_refused(admin: ApiClient, member: ApiClient) -> None:
    event = {"name": "volume-extended", "server_uuid": str(uuid.uuid4()), "tag": str(uuid.uuid4())}
    fault(_events(admin, [event], version="2.50"), 400)
    assert _events(admin, [event], version="2.51").status_code == 207  # no such server: 404 inside
    fault(_events(member, [event], version="2.51"), 403)
    fault(_events(admin, [], version="2.51"), 400)


def test_volume_extended_resizes_the_guest_disk_and_records_the_action(member: ApiClient, image: str) -> None:
    """The whole loop: os-extend at 3.42 → the block-storage side sends the event → the compute side
    resizes the disk, the guest reports it, and the volume becomes in-use with the new size."""
    server_id = create_server(member, image)
    volume = create_volume(member)
    attach(member, server_id, volume["id"])
    extend = member.volume(
        "POST", f"/volumes/{volume['id']}/action", version="3.42", json={"os-extend": {"new_size": 3}}
    )
    assert extend.status_code == 202, extend.text
    wait(lambda: volume_status(member, volume["id"]) == "in-use", "in-use again", timeout=30)
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["size"] == 3
    console = member.compute("POST", f"/servers/{server_id}/action", json={"os-getConsoleOutput": {}}).json()["output"]
    assert f"DISK {volume['id'][:20]} {3 * 1024**3}" in console.splitlines()
    actions = member.compute("GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    extended = [a for a in actions if a["action"] == "extend_volume"]
    assert len(extended) == 1
    shown = member.compute(
        "GET", f"/servers/{server_id}/os-instance-actions/{extended[0]['request_id']}", version="2.51"
    )
    [step] = shown.json()["instanceAction"]["events"]
    assert (step["event"], step["result"]) == ("compute_extend_volume", "Success") and step["finish_time"]
    assert "traceback" not in step  # events' tracebacks are for admins
    detach(member, server_id, volume["id"])
    delete_server(member, server_id)


def test_instance_actions_of_a_deleted_server_from_2_21(member: ApiClient, image: str) -> None:
    server_id = create_server(member, image)
    delete_server(member, server_id)
    fault(member.compute("GET", f"/servers/{server_id}/os-instance-actions"), 404)
    listed = member.compute("GET", f"/servers/{server_id}/os-instance-actions", version="2.21")
    assert [a["action"] for a in listed.json()["instanceActions"]] == ["delete", "create"]
    fault(member.compute("GET", f"/servers/{server_id}/os-instance-actions/req-nope", version="2.21"), 404)

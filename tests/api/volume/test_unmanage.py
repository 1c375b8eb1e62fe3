"""``os-unmanage`` (admin): the volume leaves firebrick, its file stays on disk byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cinderclient import exceptions

from tests.api.volume._clients import Member, admin_cinder, fresh_cinder_member, scribble, sha256
from tests.api.volume._helpers import MISSING_ID, create_snapshot, create_volume, fault, file_backend
from tests.clients.test_cinderclient import Cinder
from tests.conftest import ApiClient, RunningServer

REFUSAL = (
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a "
    "transfer, or be disassociated from snapshots after volume transfer."
)


@pytest.fixture
def member(server: RunningServer) -> Iterator[Member]:
    with fresh_cinder_member(server) as created:
        yield created


@pytest.fixture(scope="module")
def admin_cc(server: RunningServer) -> Iterator[Cinder]:
    with admin_cinder(server) as cinder:
        yield cinder


def _act(client: ApiClient, volume_id: str, body: Any) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", json=body)


def _in_use(client: ApiClient) -> dict[str, int]:
    shown = client.volume("GET", f"/os-quota-sets/{client.project_id}?usage=true").json()["quota_set"]
    return {key: shown[key]["in_use"] for key in ("volumes", "gigabytes", "volumes___DEFAULT__")}


def test_unmanage_forgets_the_volume_and_leaves_its_file_untouched(
    server: RunningServer, member: Member, admin_cc: Cinder
) -> None:
    volume = create_volume(member.api, size=2, metadata={"keep": "me"})
    path = file_backend(server).volume_path(volume["id"])
    scribble(path)
    before, stat = sha256(path), path.stat()
    assert _in_use(member.api) == {"volumes": 1, "gigabytes": 2, "volumes___DEFAULT__": 1}

    admin_cc.client.volumes.unmanage(volume["id"])  # cinderclient sends {"os-unmanage": null}
    member.cinder.wait_gone(member.cinder.client.volumes, volume["id"])

    with pytest.raises(exceptions.NotFound):
        member.cinder.client.volumes.get(volume["id"])
    fault(member.api.volume("GET", f"/volumes/{volume['id']}"), 404)
    assert volume["id"] not in {v.id for v in admin_cc.client.volumes.list(search_opts={"all_tenants": 1})}
    assert _in_use(member.api) == {"volumes": 0, "gigabytes": 0, "volumes___DEFAULT__": 0}
    assert sha256(path) == before
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ino,
    )
    # The file is no one's now: a new volume does not reuse it, and the old id is unknown.
    fault(_act(member.api, volume["id"], {"os-unmanage": {}}), 404)


@pytest.mark.parametrize("body", [{}, None, "anything", {"x": 1}])
def test_any_body_value_is_accepted(server: RunningServer, member: Member, admin: ApiClient, body: Any) -> None:
    volume = create_volume(member.api)
    response = _act(admin, volume["id"], {"os-unmanage": body})
    assert (response.status_code, response.content) == (202, b"")
    member.api.wait_gone(f"/volumes/{volume['id']}")
    assert file_backend(server).volume_path(volume["id"]).is_file()


def test_a_volume_in_error_may_be_unmanaged(server: RunningServer, member: Member, admin: ApiClient) -> None:
    volume = create_volume(member.api)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    assert _act(admin, volume["id"], {"os-unmanage": {}}).status_code == 202
    member.api.wait_gone(f"/volumes/{volume['id']}")
    assert file_backend(server).volume_path(volume["id"]).is_file()


def test_a_member_may_not_unmanage_even_its_own_volume(server: RunningServer, member: Member) -> None:
    volume = create_volume(member.api)
    with pytest.raises(exceptions.Forbidden) as refused:
        member.cinder.client.volumes.unmanage(volume["id"])
    assert refused.value.code == 403
    message = fault(_act(member.api, volume["id"], {"os-unmanage": {}}), 403)
    assert message == "Policy doesn't allow volume_extension:volume_unmanage to be performed."
    assert member.api.wait_volume(volume["id"], "available")["status"] == "available"


def test_another_projects_member_gets_404_and_a_missing_volume_is_404(
    member: Member, other: ApiClient, admin: ApiClient
) -> None:
    volume = create_volume(member.api)
    fault(_act(other, volume["id"], {"os-unmanage": {}}), 404)  # not found comes before the policy
    fault(_act(admin, MISSING_ID, {"os-unmanage": {}}), 404)


@pytest.mark.parametrize(
    "reset",
    [
        {"status": "maintenance"},
        {"status": "extending"},
        {"status": "creating"},
        {"attach_status": "attached"},
        {"migration_status": "migrating"},
    ],
)
def test_what_blocks_a_delete_blocks_an_unmanage(
    server: RunningServer, member: Member, admin_cc: Cinder, admin: ApiClient, reset: dict[str, str]
) -> None:
    volume = create_volume(member.api)
    assert _act(admin, volume["id"], {"os-reset_status": reset}).status_code == 202
    with pytest.raises(exceptions.BadRequest) as refused:
        admin_cc.client.volumes.unmanage(volume["id"])
    assert refused.value.code == 400
    assert fault(_act(admin, volume["id"], {"os-unmanage": {}}), 400) == REFUSAL
    shown = admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == reset.get("status", "available")
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "available", "attach_status": "detached",
                                                          "migration_status": "none"}}).status_code == 202  # fmt: skip


def test_a_volume_with_snapshots_stays(member: Member, admin: ApiClient) -> None:
    volume = create_volume(member.api)
    create_snapshot(member.api, volume["id"])
    assert fault(_act(admin, volume["id"], {"os-unmanage": {}}), 400) == REFUSAL
    assert member.api.wait_volume(volume["id"], "available")["status"] == "available"

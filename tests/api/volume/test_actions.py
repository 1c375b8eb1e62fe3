"""``POST /volumes/{id}/action``: os-extend (detached), os-set_bootable, os-reset_status, os-force_delete."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from tests.api.volume._helpers import MISSING_ID, create_volume, fault, file_backend, fresh_member
from tests.conftest import DEMO_PASSWORD, ApiClient, RunningServer, logged_in

GiB = 1024**3


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    """A member of a project of its own, so the volumes made here count against no one else's quota."""
    with fresh_member(server) as client:
        yield client


def _act(client: ApiClient, volume_id: str, body: Any, version: str | None = None) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", version=version, json=body)


def _write_pattern(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("r+b") as volume_file:
        for offset in (0, 512 * 1024**2, GiB - 4096):
            chunk = hashlib.sha256(str(offset).encode()).digest() * 128
            volume_file.seek(offset)
            volume_file.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _read_pattern(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as volume_file:
        for offset in (0, 512 * 1024**2, GiB - 4096):
            volume_file.seek(offset)
            digest.update(volume_file.read(4096))
    return digest.hexdigest()


# --- os-extend -------------------------------------------------------------------------------------


def test_extend_grows_the_file_and_keeps_its_bytes(server: RunningServer, member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    path = file_backend(server).volume_path(volume["id"])
    written = _write_pattern(path)
    assert _act(member, volume["id"], {"os-extend": {"new_size": 2}}).status_code == 202
    extended = member.wait_volume(volume["id"], "available", "error_extending")
    assert (extended["status"], extended["size"]) == ("available", 2)
    assert path.stat().st_size == 2 * GiB and _read_pattern(path) == written
    assert path.stat().st_blocks * 512 < 64 * 1024**2  # still sparse: growing wrote nothing


def test_extend_to_a_smaller_or_equal_size_is_refused_with_cinders_message(member: ApiClient) -> None:
    volume = create_volume(member, size=2)
    message = fault(_act(member, volume["id"], {"os-extend": {"new_size": 1}}), 400)
    assert message == (
        "Invalid input received: New size for extend must be greater than current size. (current: 2, extended: 1)."
    )
    fault(_act(member, volume["id"], {"os-extend": {"new_size": 2}}), 400)
    assert member.wait_volume(volume["id"], "available")["size"] == 2


@pytest.mark.parametrize("body", [{"new_size": "x"}, {"new_size": None}, {"new_size": 0}, {"new_size": -1},
                                  {"new_size": 1.5}, {}, {"new_size": 2, "extra": 1}, None])  # fmt: skip
def test_malformed_extend_bodies_are_400(member: ApiClient, body: Any) -> None:
    volume = create_volume(member, size=1)
    fault(_act(member, volume["id"], {"os-extend": body}), 400)
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["size"] == 1


def test_extend_names_the_bad_field(member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    message = fault(_act(member, volume["id"], {"os-extend": {"new_size": "x"}}), 400)
    assert message == "Invalid input for field/attribute new_size. Value: x. 'x' does not match '^[0-9]+$'"


def test_extend_of_a_volume_in_error_is_refused(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    message = fault(_act(member, volume["id"], {"os-extend": {"new_size": 3}}), 400)
    assert message == (
        f"Invalid volume: Volume {volume['id']} status must be '{{'status': 'available'}}' to extend, currently error."
    )


def test_extend_over_quota_is_413_and_changes_nothing(server: RunningServer, admin: ApiClient) -> None:
    with fresh_member(server) as member:
        volume = create_volume(member, size=1)
        quota_url = f"/os-quota-sets/{member.project_id}"
        assert admin.volume("PUT", quota_url, json={"quota_set": {"gigabytes": 2}}).status_code == 200
        refused = _act(member, volume["id"], {"os-extend": {"new_size": 3}})
        assert fault(refused, 413).startswith("VolumeSizeExceedsAvailableQuota: ")
        assert member.wait_volume(volume["id"], "available")["size"] == 1
        assert admin.volume("PUT", quota_url, json={"quota_set": {"per_volume_gigabytes": 2}}).status_code == 200
        assert fault(_act(member, volume["id"], {"os-extend": {"new_size": 3}}), 413).startswith(
            "VolumeSizeExceedsLimit"
        )
        assert _act(member, volume["id"], {"os-extend": {"new_size": 2}}).status_code == 202
        assert member.wait_volume(volume["id"], "available")["size"] == 2


def test_a_backend_that_cannot_grow_ends_in_error_extending_with_a_message(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> None:
    small = server_factory(backends=(BackendSettings("small", "pool", tmp_path / "pool", 2, "raw"),))
    with logged_in(small, "demo", DEMO_PASSWORD, "demo") as demo:
        volume = create_volume(demo, size=1)
        assert _act(demo, volume["id"], {"os-extend": {"new_size": 5}}).status_code == 202
        failed = demo.wait_volume(volume["id"], "available", "error_extending")
        assert (failed["status"], failed["size"]) == ("error_extending", 1)
        [message] = demo.volume("GET", "/messages", version="3.3").json()["messages"]
        assert message["user_message"].startswith("extend volume: insufficient free space in pool")
        assert small.node.repos.quotas.usage(demo.project_id).gigabytes == 1  # the held size was released
        assert file_backend(small).volume_path(volume["id"]).stat().st_size == GiB


def test_extend_of_another_projects_or_a_missing_volume_is_404(member: ApiClient, other: ApiClient) -> None:
    volume = create_volume(member, size=1)
    fault(_act(other, volume["id"], {"os-extend": {"new_size": 2}}), 404)
    fault(_act(member, MISSING_ID, {"os-extend": {"new_size": 2}}), 404)
    fault(_act(member, "None", {"os-extend": {"new_size": 2}}), 404)


# --- dispatch ----------------------------------------------------------------------------------------


def test_an_unknown_action_is_400_with_cinders_message(member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    message = fault(_act(member, volume["id"], {"os-bogus": {}}), 400)
    assert (
        message == "There is no such action: os-bogus. Verify the request body and Content-Type header and try again."
    )
    fault(_act(member, volume["id"], {"os-extend": {"new_size": 2}, "os-set_bootable": {"bootable": True}}), 400)


# --- os-set_bootable -----------------------------------------------------------------------------


def test_set_bootable_is_200_and_shows_as_a_string(member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    response = _act(member, volume["id"], {"os-set_bootable": {"bootable": True}})
    assert response.status_code == 200 and response.content == b""
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["bootable"] == "true"
    assert _act(member, volume["id"], {"os-set_bootable": {"bootable": "false"}}).status_code == 200
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["bootable"] == "false"


def test_set_bootable_refuses_junk_and_maintenance(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    message = fault(_act(member, volume["id"], {"os-set_bootable": {"bootable": "maybe"}}), 400)
    assert message.startswith(
        "Invalid input for field/attribute bootable. Value: maybe. 'maybe' is not one of [True, 'True'"
    )
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "maintenance"}}).status_code == 202
    fault(_act(member, volume["id"], {"os-set_bootable": {"bootable": True}}), 400)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "available"}}).status_code == 202


# --- os-reset_status -------------------------------------------------------------------------------


def test_reset_status_cycles_as_tempest_does(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    for status in ("error", "available", "maintenance", "creating", "available"):
        assert _act(admin, volume["id"], {"os-reset_status": {"status": status}}).status_code == 202
        assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == status


def test_reset_status_validates_its_values(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    message = fault(_act(admin, volume["id"], {"os-reset_status": {"status": "bogus"}}), 400)
    assert message.startswith(
        "Volume status: bogus is invalid, valid statuses are: ('creating', 'available', 'deleting'"
    )
    assert fault(_act(admin, volume["id"], {"os-reset_status": {"status": "deleting"}}), 400) == (
        "Cannot reset-state to deleting"
    )
    fault(_act(admin, volume["id"], {"os-reset_status": {"status": "in-use"}}), 400)
    fault(_act(admin, volume["id"], {"os-reset_status": {}}), 400)
    fault(_act(admin, volume["id"], {"os-reset_status": {"attach_status": "sideways"}}), 400)
    fault(_act(admin, volume["id"], {"os-reset_status": {"status": "error", "surprise": 1}}), 400)
    assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"


def test_reset_migration_status_none_clears_it(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    assert _act(admin, volume["id"], {"os-reset_status": {"migration_status": "error"}}).status_code == 202
    assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["migration_status"] == "error"
    assert _act(admin, volume["id"], {"os-reset_status": {"migration_status": "NONE"}}).status_code == 202
    assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["migration_status"] is None


def test_admin_actions_are_403_for_members(member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    fault(_act(member, volume["id"], {"os-reset_status": {"status": "error"}}), 403)
    fault(_act(member, volume["id"], {"os-force_delete": {}}), 403)
    assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"


# --- os-force_delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["creating", "attaching", "error", "maintenance"])
def test_force_delete_removes_a_volume_in_any_status(
    server: RunningServer, member: ApiClient, admin: ApiClient, status: str
) -> None:
    volume = create_volume(member, size=1)
    path = file_backend(server).volume_path(volume["id"])
    assert _act(admin, volume["id"], {"os-reset_status": {"status": status}}).status_code == 202
    assert _act(admin, volume["id"], {"os-force_delete": {}}).status_code == 202
    admin.wait_gone(f"/volumes/{volume['id']}")
    assert not path.exists()


def test_force_delete_still_refuses_a_volume_with_snapshots(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    snapshot = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()["snapshot"]
    member.wait_snapshot(snapshot["id"], "available")
    fault(_act(admin, volume["id"], {"os-force_delete": {}}), 400)
    assert member.volume("DELETE", f"/snapshots/{snapshot['id']}").status_code == 202
    member.wait_gone(f"/snapshots/{snapshot['id']}")


# --- revert (3.40) ---------------------------------------------------------------------------------


def test_revert_puts_the_snapshots_bytes_back(server: RunningServer, member: ApiClient) -> None:
    volume = create_volume(member, size=1)
    path = file_backend(server).volume_path(volume["id"])
    original = _write_pattern(path)
    snapshot = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()["snapshot"]
    member.wait_snapshot(snapshot["id"], "available")
    with path.open("r+b") as volume_file:
        volume_file.write(b"\xff" * 4096)
    assert _read_pattern(path) != original

    fault(_act(member, volume["id"], {"revert": {"snapshot_id": snapshot["id"]}}, version="3.39"), 404)
    assert _act(member, volume["id"], {"revert": {"snapshot_id": snapshot["id"]}}, version="3.40").status_code == 202
    assert member.wait_volume(volume["id"], "available", "error")["status"] == "available"
    assert member.wait_snapshot(snapshot["id"], "available")["status"] == "available"
    assert _read_pattern(path) == original


def test_revert_refusals(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    body = {"revert": {"snapshot_id": MISSING_ID}}
    assert "doesn't have any snapshots" in fault(_act(member, volume["id"], body, version="3.40"), 400)
    snapshot = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()["snapshot"]
    member.wait_snapshot(snapshot["id"], "available")
    assert "not the latest one" in fault(_act(member, volume["id"], body, version="3.40"), 400)
    fault(_act(member, volume["id"], {"revert": {"snapshot_id": "not-a-uuid"}}, version="3.40"), 400)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    fault(_act(member, volume["id"], {"revert": {"snapshot_id": snapshot["id"]}}, version="3.40"), 409)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "available"}}).status_code == 202


# --- image metadata ------------------------------------------------------------------------------


def test_image_metadata_set_show_unset_as_tempest_does(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    props = {
        "image_id": "11111111-2222-3333-4444-555555555555",
        "image_name": "cirros",
        "kernel_id": "k",
        "ramdisk_id": "r",
    }
    response = _act(member, volume["id"], {"os-set_image_metadata": {"metadata": props}})
    assert response.status_code == 200 and response.json() == {"metadata": props}
    shown = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["volume_image_metadata"] == props and shown["metadata"] == {}
    listed = member.volume("GET", "/volumes/detail").json()["volumes"]
    assert [v["volume_image_metadata"] for v in listed if v["id"] == volume["id"]] == [props]

    unset = _act(member, volume["id"], {"os-unset_image_metadata": {"key": "ramdisk_id"}})
    assert unset.status_code == 200 and unset.content == b""
    remaining = {k: v for k, v in props.items() if k != "ramdisk_id"}
    assert _act(member, volume["id"], {"os-show_image_metadata": None}).json() == {"metadata": remaining}
    missing = fault(_act(member, volume["id"], {"os-unset_image_metadata": {"key": "nope"}}), 404)
    assert missing == f"Glance metadata for volume/snapshot {volume['id']} cannot be found."


def test_no_image_metadata_means_no_key_and_bad_bodies_are_400(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1)
    assert "volume_image_metadata" not in member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    fault(_act(member, volume["id"], {"os-set_image_metadata": {"metadata": {"k": 1}}}), 400)
    fault(_act(member, volume["id"], {"os-set_image_metadata": {}}), 400)
    fault(_act(member, volume["id"], {"os-unset_image_metadata": {"key": ""}}), 400)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "maintenance"}}).status_code == 202
    fault(_act(member, volume["id"], {"os-set_image_metadata": {"metadata": {"k": "v"}}}), 400)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "available"}}).status_code == 202


# --- os-update_readonly_flag -----------------------------------------------------------------------


def test_readonly_flag_shows_in_metadata_as_cinder_does(member: ApiClient, admin: ApiClient) -> None:
    volume = create_volume(member, size=1, metadata={"k": "v"})
    assert "readonly" not in member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["metadata"]
    for flag, shown in ((True, "True"), ("false", "False")):
        assert _act(member, volume["id"], {"os-update_readonly_flag": {"readonly": flag}}).status_code == 202
        metadata = member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["metadata"]
        assert metadata == {"k": "v", "readonly": shown}
    assert member.volume("GET", f"/volumes/{volume['id']}/metadata").json() == {"metadata": {"k": "v"}}
    fault(_act(member, volume["id"], {"os-update_readonly_flag": {"readonly": "perhaps"}}), 400)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    fault(_act(member, volume["id"], {"os-update_readonly_flag": {"readonly": True}}), 400)

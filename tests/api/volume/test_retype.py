"""``os-retype``: a type the volume's pool can hold lands; one that needs a move goes back, told why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cinderclient import exceptions

from firebrick.config import BackendSettings
from tests.api.volume._clients import Member, admin_cinder, cinder_for, fresh_cinder_member, scribble, sha256
from tests.api.volume._helpers import MISSING_ID, create_volume, delete_volume, fault, file_backend, unique
from tests.clients.test_cinderclient import Cinder
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, logged_in

LONG_REFUSAL = (
    "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active "
    "migration or a consistency group, requested type has to be different that the one from the volume, "
    "and for in-use volumes front-end qos specs cannot change."
)


@pytest.fixture
def member(server: RunningServer) -> Iterator[Member]:
    with fresh_cinder_member(server) as created:
        yield created


@pytest.fixture(scope="module")
def admin_cc(server: RunningServer) -> Iterator[Cinder]:
    with admin_cinder(server) as cinder:
        yield cinder


@pytest.fixture
def new_type(admin: ApiClient) -> Iterator[Callable[..., str]]:
    """Make a public type with these extra specs (a unique name, returned); all are deleted afterwards."""
    made: list[str] = []

    def make(**specs: str) -> str:
        name = unique("type")
        response = admin.volume("POST", "/types", json={"volume_type": {"name": name, "extra_specs": specs}})
        assert response.status_code == 200, response.text
        made.append(response.json()["volume_type"]["id"])
        return name

    yield make
    for type_id in made:
        admin.volume("DELETE", f"/types/{type_id}")  # refused while a volume (of another test) still has it


def _act(client: ApiClient, volume_id: str, body: Any, version: str | None = None) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", json=body, version=version)


def _wait_retyped(cinder: Cinder, volume_id: str) -> Any:
    """Tempest's wait: until the status is no longer retyping."""
    return cinder.wait(cinder.client.volumes, volume_id, "available")


# --- success -------------------------------------------------------------------------------------


def test_retype_through_cinderclient_changes_the_type_and_not_a_byte(
    server: RunningServer, member: Member, new_type: Callable[..., str]
) -> None:
    gold = new_type(**{"firebrick:disk_format": "qcow2"})
    volume = member.cinder.available_volume(size=1, name=unique("rt"))
    path = file_backend(server).volume_path(volume.id)
    scribble(path)
    before = sha256(path)
    member.cinder.client.volumes.retype(volume, gold, "never")
    retyped = _wait_retyped(member.cinder, volume.id)
    assert (retyped.volume_type, retyped.size, retyped.name, retyped.id) == (gold, 1, volume.name, volume.id)
    assert sha256(path) == before  # the raw file stays raw: a retype moves no byte
    assert getattr(retyped, "multiattach", None) is False
    in_use = member.api.volume("GET", f"/os-quota-sets/{member.api.project_id}?usage=true").json()["quota_set"]
    assert (in_use[f"volumes_{gold}"]["in_use"], in_use["volumes___DEFAULT__"]["in_use"]) == (1, 0)
    assert (in_use[f"gigabytes_{gold}"]["in_use"], in_use["gigabytes"]["in_use"]) == (1, 1)


def test_retype_by_type_id_with_on_demand_and_multiattach_following(
    member: Member, new_type: Callable[..., str], admin: ApiClient
) -> None:
    shared = new_type(multiattach="<is> True")
    shared_id = admin.volume("GET", f"/types/{shared}").json()["volume_type"]["id"]
    volume = create_volume(member.api)
    response = _act(member.api, volume["id"], {"os-retype": {"new_type": shared_id, "migration_policy": "on-demand"}})
    assert (response.status_code, response.content) == (202, b"")
    shown = _wait_retyped(member.cinder, volume["id"])
    assert (shown.volume_type, shown.multiattach) == (shared, True)
    assert _act(member.api, volume["id"], {"os-retype": {"new_type": "__DEFAULT__"}}).status_code == 202
    back = _wait_retyped(member.cinder, volume["id"])
    assert (back.volume_type, back.multiattach) == ("__DEFAULT__", False)


def test_a_null_migration_policy_means_never(member: Member, new_type: Callable[..., str]) -> None:
    gold = new_type()
    volume = create_volume(member.api)
    assert (
        _act(member.api, volume["id"], {"os-retype": {"new_type": gold, "migration_policy": None}}).status_code == 202
    )
    assert _wait_retyped(member.cinder, volume["id"]).volume_type == gold


def test_an_admin_retypes_a_members_volume(member: Member, admin_cc: Cinder, new_type: Callable[..., str]) -> None:
    gold = new_type()
    volume = create_volume(member.api)
    admin_cc.client.volumes.retype(volume["id"], gold, "never")
    assert _wait_retyped(member.cinder, volume["id"]).volume_type == gold


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'new_type' is a required property"),
        ({"migration_policy": "never"}, "'new_type' is a required property"),
        ({"new_type": None}, "Invalid input for field/attribute new_type. Value: None. None is not of type 'string'"),
        ({"new_type": 7}, "Invalid input for field/attribute new_type. Value: 7. 7 is not of type 'string'"),
        ({"new_type": "x", "migration_policy": "sometimes"}, None),
        ({"new_type": "x", "migration_policy": 1}, None),
        ({"new_type": "x", "extra": 1}, "Additional properties are not allowed ('extra' was unexpected)"),
        (None, "None is not of type 'object'"),
        ("x", None),
    ],
)
def test_malformed_retype_bodies_are_400_and_change_nothing(member: Member, body: Any, message: str | None) -> None:
    volume = create_volume(member.api)
    said = fault(_act(member.api, volume["id"], {"os-retype": body}), 400)
    if message is not None:
        assert message in said
    assert member.api.wait_volume(volume["id"], "available")["volume_type"] == "__DEFAULT__"


@pytest.mark.parametrize("name", ["no-such-type", MISSING_ID])
def test_an_unknown_type_is_400_not_404(member: Member, name: str) -> None:
    volume = create_volume(member.api)
    with pytest.raises(exceptions.BadRequest) as refused:
        member.cinder.client.volumes.retype(volume["id"], name, "never")
    assert refused.value.code == 400
    said = fault(_act(member.api, volume["id"], {"os-retype": {"new_type": name}}), 400)
    assert said == f"Invalid input received: Invalid volume_type passed: {name}."


def test_the_same_type_or_a_volume_in_error_gets_cinders_long_message(
    member: Member, admin: ApiClient, new_type: Callable[..., str]
) -> None:
    gold = new_type()
    volume = create_volume(member.api)
    assert fault(_act(member.api, volume["id"], {"os-retype": {"new_type": "__DEFAULT__"}}), 400) == LONG_REFUSAL
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    assert fault(_act(member.api, volume["id"], {"os-retype": {"new_type": gold}}), 400) == LONG_REFUSAL
    assert member.api.wait_volume(volume["id"], "error")["volume_type"] == "__DEFAULT__"


def test_the_new_types_size_limits_are_400(member: Member, new_type: Callable[..., str]) -> None:
    small = new_type(**{"provisioning:max_vol_size": "1"})
    volume = create_volume(member.api, size=2)
    said = fault(_act(member.api, volume["id"], {"os-retype": {"new_type": small}}), 400)
    assert said == (
        f"Invalid input received: Specified volume size of '2' is greater than the maximum allowable size of '1' "
        f"for volume type '{small}'."
    )


def test_a_multiattach_change_needs_an_available_volume(
    member: Member, admin: ApiClient, new_type: Callable[..., str]
) -> None:
    shared = new_type(multiattach="<is> True")
    volume = create_volume(member.api)
    assert _act(admin, volume["id"], {"os-reset_status": {"status": "error"}}).status_code == 202
    said = fault(_act(member.api, volume["id"], {"os-retype": {"new_type": shared}}), 400)
    assert said == (
        "Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on "
        "available volumes, the specified volume however currently has a status of: error."
    )


def test_an_operator_may_keep_multiattach_types_for_admins(
    tmp_path: Path, server_factory: Callable[..., RunningServer]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"volume:multiattach": "rule:admin_api"\n')
    running = server_factory(policy_file=policy)
    with (
        logged_in(running, "admin", ADMIN_PASSWORD, "admin") as admin,
        logged_in(running, "demo", DEMO_PASSWORD, "demo") as demo,
    ):
        for name, specs in (("shared", {"multiattach": "<is> True"}), ("plain", {})):
            body = {"volume_type": {"name": name, "extra_specs": specs}}
            assert admin.volume("POST", "/types", json=body).status_code == 200
        volume = create_volume(demo)
        said = fault(_act(demo, volume["id"], {"os-retype": {"new_type": "shared"}}), 403)
        assert said == "Policy doesn't allow volume:multiattach to be performed."
        assert _act(demo, volume["id"], {"os-retype": {"new_type": "plain"}}).status_code == 202  # not multiattach
        with cinder_for(running, "demo", DEMO_PASSWORD, "demo") as cinder:
            assert _wait_retyped(cinder, volume["id"]).volume_type == "plain"


@pytest.mark.parametrize(
    ("key", "limit", "prefix"),
    [
        ("volumes", 0, "VolumeLimitExceeded: Maximum number of volumes allowed (0) exceeded for quota 'volumes_{}'."),
        ("gigabytes", 1, "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes_{}"),
    ],
)
def test_the_new_types_quota_is_413_and_nothing_leaks(
    member: Member, admin: ApiClient, new_type: Callable[..., str], key: str, limit: int, prefix: str
) -> None:
    gold = new_type()
    volume = create_volume(member.api, size=2)
    quota_url = f"/os-quota-sets/{member.api.project_id}"
    assert admin.volume("PUT", quota_url, json={"quota_set": {f"{key}_{gold}": limit}}).status_code == 200
    with pytest.raises(exceptions.OverLimit):
        member.cinder.client.volumes.retype(volume["id"], gold, "never")
    assert fault(_act(member.api, volume["id"], {"os-retype": {"new_type": gold}}), 413).startswith(prefix.format(gold))
    assert member.api.wait_volume(volume["id"], "available")["volume_type"] == "__DEFAULT__"
    in_use = member.api.volume("GET", f"{quota_url}?usage=true").json()["quota_set"]
    assert (in_use[f"volumes_{gold}"]["in_use"], in_use["volumes___DEFAULT__"]["in_use"]) == (0, 1)


def test_readers_may_not_retype_and_other_projects_get_404(
    member: Member, other: ApiClient, demo: ApiClient, reader: ApiClient, new_type: Callable[..., str]
) -> None:
    gold = new_type()
    volume = create_volume(member.api)
    fault(_act(other, volume["id"], {"os-retype": {"new_type": gold}}), 404)
    fault(_act(member.api, MISSING_ID, {"os-retype": {"new_type": gold}}), 404)
    demos = create_volume(demo)
    try:
        said = fault(_act(reader, demos["id"], {"os-retype": {"new_type": gold}}), 403)
        assert said == "Policy doesn't allow volume:retype to be performed."
    finally:
        delete_volume(demo, demos["id"])


# --- across two pools ----------------------------------------------------------------------------


# With on-demand the volume moves instead: tests/api/volume/test_migrate.py.
@pytest.mark.parametrize("policy", ["never"])
def test_a_retype_to_the_other_pool_goes_back_and_is_told(
    server_factory: Callable[..., RunningServer], tmp_path: Path, policy: str
) -> None:
    backends = (
        BackendSettings("alpha", "pool", tmp_path / "alpha", 100, "raw"),
        BackendSettings("beta", "pool", tmp_path / "beta", 100, "raw"),
    )
    running = server_factory(backends=backends)
    with (
        logged_in(running, "admin", ADMIN_PASSWORD, "admin") as admin,
        cinder_for(running, "demo", DEMO_PASSWORD, "demo") as demo,
    ):
        for name, backend in (("on-alpha", "alpha"), ("on-beta", "beta"), ("alpha-too", "alpha")):
            spec = {"name": name, "extra_specs": {"volume_backend_name": backend}}
            assert admin.volume("POST", "/types", json={"volume_type": spec}).status_code == 200
        volume = demo.available_volume(size=1, volume_type="on-alpha")
        path = file_backend(running, 0).volume_path(volume.id)
        assert path.is_file()
        demo.client.volumes.retype(volume, "on-beta", policy)
        back = _wait_retyped(demo, volume.id)
        assert back.volume_type == "on-alpha"
        messages = Cinder(demo.session, "3.3").client.messages.list()
        [told] = [m for m in messages if m.resource_uuid == volume.id]
        assert told.resource_type == "VOLUME" and told.message_level == "ERROR"
        assert told.user_message.startswith("retype volume: Retype requires migration but is not allowed")
        assert running.node.repos.quotas.usage(demo.project_id).volumes == 1
        assert not file_backend(running, 1).volume_path(volume.id).exists() and path.is_file()
        # The same pool's other type is fine.
        demo.client.volumes.retype(volume, "alpha-too", policy)
        assert _wait_retyped(demo, volume.id).volume_type == "alpha-too"

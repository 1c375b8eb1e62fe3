from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.config import BackendSettings
from firebrick.db import upgrade
from firebrick.domain import recovery
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.create import SnapshotRequest
from firebrick.domain.snapshot.create import request_create as request_snapshot
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.retype import RETYPE, request_retype
from firebrick.domain.volume.states import MigrationStatus, VolumeStatus
from firebrick.domain.volume_types import create_type, delete_type, ensure_default_type
from firebrick.errors import Forbidden, InvalidInput, InvalidState, NotFound, QuotaExceeded
from firebrick.node import Node
from tests.conftest import database_url, make_settings
from tests.fixtures_domain import caller_in, drain

_LONG_REFUSAL = (
    "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active "
    "migration or a consistency group, requested type has to be different that the one from the volume, "
    "and for in-use volumes front-end qos specs cannot change."
)


@pytest.fixture
def two_pools(tmp_path: Path) -> Iterator[Node]:
    """A node with two pools, backends ``alpha`` and ``beta``."""
    urls = database_url(tmp_path)
    backends = tuple(
        BackendSettings(name=name, pool="pool", path=tmp_path / name, capacity_gb=10, format="raw", driver="fake")
        for name in ("alpha", "beta")
    )
    built = Node(make_settings(tmp_path, next(urls), backends=backends))
    upgrade(built.settings.database_url)
    ensure_default_type(built.ports)
    yield built
    built.db.dispose()
    next(urls, None)


def _volume(ports: Ports, caller: Caller, size: int = 1, volume_type: str | None = None) -> str:
    volume = request_create(ports, caller, CreateRequest(size=size, volume_type=volume_type))
    drain(ports)
    return volume.id


def _status_and_type(ports: Ports, volume_id: str) -> tuple[str, str | None]:
    volume = ports.volumes.get(volume_id)
    assert volume is not None
    return volume.status, volume.volume_type_name


def _told(ports: Ports, caller: Caller, volume_id: str) -> list[str]:
    return [m.user_message for m in ports.messages.find(caller.project_id, volume_id)]


# --- what completes ------------------------------------------------------------------------------


def test_retype_goes_through_retyping_and_lands_with_the_new_type(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {"firebrick:disk_format": "qcow2"})
    volume_id = _volume(ports, member, size=2)
    snapshot = request_snapshot(ports, member, SnapshotRequest(volume_id=volume_id))
    drain(ports)
    request_retype(ports, member, volume_id, "gold")
    pending = ports.volumes.get(volume_id)
    assert pending is not None and (pending.status, pending.previous_status) == ("retyping", "available")
    assert pending.volume_type_name == "__DEFAULT__"  # nothing changes before the worker decides
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "gold")
    assert ports.snapshots.get(snapshot.id).volume_id == volume_id  # type: ignore[union-attr]
    assert ports.pools[0].driver.inspect(volume_id).format == "raw"  # no byte moved, no conversion
    assert _told(ports, member, volume_id) == []


def test_the_per_type_usage_moves_with_the_type(ports: Ports, member: Caller) -> None:
    gold = create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member, size=3)
    default = ports.volumes.get(volume_id).volume_type_id  # type: ignore[union-attr]
    request_retype(ports, member, volume_id, gold.id)  # by id as well as by name
    drain(ports)
    usage = ports.quotas.usage(member.project_id)
    assert usage.per_type.get(gold.id) == (1, 3) and default not in usage.per_type
    assert (usage.volumes, usage.gigabytes) == (1, 3)


def test_an_in_use_volume_goes_back_to_in_use(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.IN_USE)
    request_retype(ports, member, volume_id, "gold", "on-demand")
    assert ports.volumes.get(volume_id).previous_status == "in-use"  # type: ignore[union-attr]
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("in-use", "gold")


def test_multiattach_follows_the_new_type_both_ways(ports: Ports, member: Caller) -> None:
    create_type(ports, "shared", None, True, {"multiattach": "<is> True"})
    create_type(ports, "single", None, True, {"multiattach": "<is> False"})
    volume_id = _volume(ports, member)
    request_retype(ports, member, volume_id, "shared")
    assert ports.volumes.get(volume_id).multiattach is False  # type: ignore[union-attr]  # set when it lands
    drain(ports)
    assert ports.volumes.get(volume_id).multiattach is True  # type: ignore[union-attr]
    request_retype(ports, member, volume_id, "single")
    drain(ports)
    landed = ports.volumes.get(volume_id)
    assert landed is not None and (landed.volume_type_name, landed.multiattach) == ("single", False)


def test_a_type_for_the_volumes_own_backend_completes(two_pools: Node) -> None:
    ports, member = two_pools.ports, caller_in(two_pools, "alpha-project")
    create_type(ports, "on-alpha", None, True, {"volume_backend_name": "alpha"})
    create_type(ports, "also-alpha", None, True, {"volume_backend_name": "alpha", "x": "y"})
    volume_id = _volume(ports, member, volume_type="on-alpha")
    request_retype(ports, member, volume_id, "also-alpha", "never")
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "also-alpha")


def test_types_alike_but_for_their_names_retype_in_the_database_only(two_pools: Node) -> None:
    ports, member = two_pools.ports, caller_in(two_pools, "alpha-project")
    # Nothing serves "gamma", so the volume was placed wherever there was room; a twin type may
    # still take it over, as Cinder's database-only retype does.
    create_type(ports, "on-gamma", None, True, {"volume_backend_name": "gamma"})
    create_type(ports, "gamma-twin", None, True, {"volume_backend_name": "gamma"})
    volume_id = _volume(ports, member, volume_type="on-gamma")
    request_retype(ports, member, volume_id, "gamma-twin")
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "gamma-twin")


# --- what would need a move ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "told"),
    [
        (None, "Retype requires migration but is not allowed"),
        ("never", "Retype requires migration but is not allowed"),
    ],
)
def test_a_retype_to_another_backend_goes_back_with_its_type_and_says_why(
    two_pools: Node, policy: str | None, told: str
) -> None:
    ports, member = two_pools.ports, caller_in(two_pools, "alpha-project")
    create_type(ports, "on-alpha", None, True, {"volume_backend_name": "alpha"})
    beta = create_type(ports, "on-beta", None, True, {"volume_backend_name": "beta"})
    ports.quotas.set(member.project_id, {"volumes_on-beta": 1})
    volume_id = _volume(ports, member, volume_type="on-alpha")
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.IN_USE)
    request_retype(ports, member, volume_id, "on-beta", policy)
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("in-use", "on-alpha")
    [message] = _told(ports, member, volume_id)
    assert message == f"retype volume: {told}: volume type on-beta needs backend 'beta' and the volume is on 'alpha'."
    assert beta.id not in ports.quotas.usage(member.project_id).per_type  # nothing held, nothing leaked
    other = _volume(ports, member, volume_type="on-beta")  # the one on-beta slot is still free
    assert _status_and_type(ports, other) == ("available", "on-beta")


def test_a_type_no_pool_serves_goes_back_with_no_valid_backend(two_pools: Node) -> None:
    ports, member = two_pools.ports, caller_in(two_pools, "alpha-project")
    create_type(ports, "on-alpha", None, True, {"volume_backend_name": "alpha"})
    create_type(ports, "nowhere", None, True, {"volume_backend_name": "gamma"})
    volume_id = _volume(ports, member, volume_type="on-alpha")
    request_retype(ports, member, volume_id, "nowhere", "on-demand")
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "on-alpha")
    assert _told(ports, member, volume_id) == [
        "retype volume: No valid backend was found: no pool serves backend 'gamma'."
    ]


def test_a_type_deleted_while_the_volume_was_retyping_leaves_it_as_it_was(ports: Ports, member: Caller) -> None:
    gold = create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    request_retype(ports, member, volume_id, "gold")
    delete_type(ports, gold.id)  # no volume has it yet, so an admin may
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "__DEFAULT__")
    assert _told(ports, member, volume_id) == [f"retype volume: Volume type {gold.id} no longer exists."]


# --- refusals, in Cinder's order -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["no-such-type", "", "00000000-0000-0000-0000-000000000000", "private"])
def test_an_unknown_type_is_invalid_input_not_not_found(ports: Ports, member: Caller, name: str) -> None:
    create_type(ports, "private", None, False, {})
    volume_id = _volume(ports, member)
    with pytest.raises(InvalidInput) as refused:
        request_retype(ports, member, volume_id, name)
    assert str(refused.value) == f"Invalid input received: Invalid volume_type passed: {name}."
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]


def test_an_admin_may_retype_to_a_private_type(ports: Ports, admin_caller: Caller) -> None:
    create_type(ports, "private", None, False, {})
    volume_id = _volume(ports, admin_caller)
    request_retype(ports, admin_caller, volume_id, "private")
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "private")


def test_the_new_types_size_limits_apply(ports: Ports, member: Caller) -> None:
    create_type(ports, "big", None, True, {"provisioning:min_vol_size": "5"})
    create_type(ports, "small", None, True, {"provisioning:max_vol_size": "1"})
    volume_id = _volume(ports, member, size=2)
    with pytest.raises(InvalidInput) as too_small:
        request_retype(ports, member, volume_id, "big")
    assert str(too_small.value) == (
        "Invalid input received: Specified volume size of '2' is less than the minimum required size of '5' "
        "for volume type 'big'."
    )
    with pytest.raises(InvalidInput) as too_big:
        request_retype(ports, member, volume_id, "small")
    assert str(too_big.value) == (
        "Invalid input received: Specified volume size of '2' is greater than the maximum allowable size of '1' "
        "for volume type 'small'."
    )


def test_a_multiattach_change_needs_an_available_volume_and_the_policy(ports: Ports, member: Caller) -> None:
    create_type(ports, "shared", None, True, {"multiattach": "<is> True"})
    volume_id = _volume(ports, member)
    with pytest.raises(Forbidden, match="volume:multiattach"):
        request_retype(ports, member, volume_id, "shared", multiattach_allowed=False)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.IN_USE)
    with pytest.raises(InvalidInput) as refused:
        request_retype(ports, member, volume_id, "shared")
    assert str(refused.value) == (
        "Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on "
        "available volumes, the specified volume however currently has a status of: in-use."
    )
    assert ports.volumes.get(volume_id).status == VolumeStatus.IN_USE  # type: ignore[union-attr]


@pytest.mark.parametrize(("key", "limit", "size"), [("volumes_gold", 0, 1), ("gigabytes_gold", 2, 3)])
def test_the_new_types_quota_is_checked_and_a_refusal_changes_nothing(
    ports: Ports, member: Caller, key: str, limit: int, size: int
) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member, size=size)
    ports.quotas.set(member.project_id, {key: limit})
    with pytest.raises(QuotaExceeded) as refused:
        request_retype(ports, member, volume_id, "gold")
    assert refused.value.resource == key
    assert _status_and_type(ports, volume_id) == ("available", "__DEFAULT__")
    assert ports.jobs.for_resource(volume_id) == []


def test_only_the_per_type_quota_counts_not_the_project_totals(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member, size=3)
    ports.quotas.set(member.project_id, {"volumes": 1, "gigabytes": 3})  # full, but a retype adds nothing
    request_retype(ports, member, volume_id, "gold")
    drain(ports)
    assert _status_and_type(ports, volume_id) == ("available", "gold")


def test_over_quota_is_answered_before_a_wrong_status(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.ERROR, override=True)
    ports.quotas.set(member.project_id, {"volumes_gold": 0})
    with pytest.raises(QuotaExceeded):
        request_retype(ports, member, volume_id, "gold")


def test_two_retypes_racing_for_the_last_slot_land_only_once(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    first, second = _volume(ports, member), _volume(ports, member)
    ports.quotas.set(member.project_id, {"volumes_gold": 1})
    request_retype(ports, member, first, "gold")
    request_retype(ports, member, second, "gold")  # admitted too: the first still counts as __DEFAULT__
    drain(ports)
    landed = sorted([_status_and_type(ports, first), _status_and_type(ports, second)])
    assert landed == [("available", "__DEFAULT__"), ("available", "gold")]
    loser = first if _status_and_type(ports, first)[1] == "__DEFAULT__" else second
    assert _told(ports, member, loser) == [
        "retype volume: Maximum number of volumes allowed (1) exceeded for quota 'volumes_gold'."
    ]


@pytest.mark.parametrize("status", ["error", "extending", "retyping", "reserved", "maintenance"])
def test_retype_from_another_status_is_refused_with_cinders_message(ports: Ports, member: Caller, status: str) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, status, override=True)
    with pytest.raises(InvalidState) as refused:
        request_retype(ports, member, volume_id, "gold")
    assert str(refused.value) == _LONG_REFUSAL
    assert _status_and_type(ports, volume_id) == (status, "__DEFAULT__")


def test_retype_to_its_own_type_or_while_migrating_is_refused(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    with pytest.raises(InvalidState, match="requested type has to be different"):
        request_retype(ports, member, volume_id, "__DEFAULT__")
    ports.volumes.update(volume_id, migration_status=MigrationStatus.MIGRATING)
    with pytest.raises(InvalidState, match="not be part of an active migration"):
        request_retype(ports, member, volume_id, "gold")
    assert ports.jobs.for_resource(volume_id) == []


def test_another_projects_volume_is_not_found(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, admin_caller)
    with pytest.raises(NotFound):
        request_retype(ports, member, volume_id, "gold")


# --- crashes -------------------------------------------------------------------------------------


def test_a_crash_before_the_retype_landed_just_runs_again(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    request_retype(ports, member, volume_id, "gold")
    assert recovery.recover(ports) == 0  # it has its job
    [job] = ports.jobs.pending(ports.node)
    RETYPE.run(ports, job)
    RETYPE.run(ports, job)  # a repeat after it landed finds it no longer retyping
    assert _status_and_type(ports, volume_id) == ("available", "gold")
    assert ports.jobs.pending(ports.node) == []


def test_a_retype_that_lost_its_job_goes_back_to_its_status(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {})
    volume_id = _volume(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.IN_USE)
    request_retype(ports, member, volume_id, "gold")
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)
    assert recovery.recover(ports) == 1
    assert _status_and_type(ports, volume_id) == ("in-use", "__DEFAULT__")
    [message] = _told(ports, member, volume_id)
    assert message.startswith("retype volume: interrupted")


def test_giving_up_leaves_the_type_and_restores_the_status(ports: Ports, member: Caller) -> None:
    create_type(ports, "gold", None, True, {"multiattach": "<is> True"})
    volume_id = _volume(ports, member)
    request_retype(ports, member, volume_id, "gold")
    [job] = ports.jobs.pending(ports.node)
    RETYPE.give_up(ports, job, "internal error: boom")
    kept = ports.volumes.get(volume_id)
    assert kept is not None and (kept.status, kept.volume_type_name, kept.multiattach) == (
        "available",
        "__DEFAULT__",
        False,
    )
    assert _told(ports, member, volume_id) == ["retype volume: internal error: boom"]

from __future__ import annotations

import pytest

from firebrick.domain import recovery
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.snapshot.create import SnapshotRequest
from firebrick.domain.snapshot.create import request_create as request_snapshot
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.delete import REFUSAL
from firebrick.domain.volume.states import MigrationStatus, VolumeStatus
from firebrick.domain.volume.unmanage import UNMANAGE, request_unmanage
from firebrick.errors import InvalidInput, NotFound
from tests.fixtures_domain import drain

GiB = 1024**3


def _available(ports: Ports, caller: Caller, size: int = 1) -> str:
    volume = request_create(ports, caller, CreateRequest(size=size))
    drain(ports)
    return volume.id


def test_unmanage_forgets_the_volume_keeps_its_object_and_releases_quota(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member, size=2)
    ports.volumes.set_metadata(volume_id, {"k": "v"}, replace=True)
    assert ports.quotas.usage(member.project_id).gigabytes == 2
    request_unmanage(ports, member, volume_id)
    pending = ports.volumes.get(volume_id)
    assert pending is not None and (pending.status, pending.previous_status) == ("unmanaging", "available")
    drain(ports)
    assert ports.volumes.get(volume_id) is None
    assert ports.pools[0].driver.inspect(volume_id).virtual_size == 2 * GiB  # still on the backend
    usage = ports.quotas.usage(member.project_id)
    assert (usage.volumes, usage.gigabytes) == (0, 0)


@pytest.mark.parametrize("status", ["error", "error_restoring", "error_extending", "error_managing"])
def test_unmanage_starts_from_every_status_delete_does(ports: Ports, member: Caller, status: str) -> None:
    volume_id = _available(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, status, override=True)
    request_unmanage(ports, member, volume_id)
    drain(ports)
    assert ports.volumes.get(volume_id) is None


@pytest.mark.parametrize("status", ["in-use", "extending", "error_deleting", "maintenance", "retyping"])
def test_unmanage_from_another_status_is_refused_and_changes_nothing(ports: Ports, member: Caller, status: str) -> None:
    volume_id = _available(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, status, override=True)
    with pytest.raises(InvalidInput) as refused:
        request_unmanage(ports, member, volume_id)
    assert str(refused.value) == REFUSAL
    assert ports.volumes.get(volume_id).status == status  # type: ignore[union-attr]
    assert ports.jobs.for_resource(volume_id) == []


def test_unmanage_of_a_volume_with_snapshots_or_migrating_is_refused(ports: Ports, member: Caller) -> None:
    with_snapshot, migrating = _available(ports, member), _available(ports, member)
    request_snapshot(ports, member, SnapshotRequest(volume_id=with_snapshot))
    drain(ports)
    ports.volumes.update(migrating, migration_status=MigrationStatus.MIGRATING)
    for volume_id in (with_snapshot, migrating):
        with pytest.raises(InvalidInput, match="have snapshots"):
            request_unmanage(ports, member, volume_id)
        assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]


def test_unmanage_of_another_projects_volume_is_not_found(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    volume_id = _available(ports, admin_caller)
    with pytest.raises(NotFound):
        request_unmanage(ports, member, volume_id)
    request_unmanage(ports, admin_caller, volume_id)  # an admin reaches every project's volumes


def test_a_crash_before_the_row_went_just_runs_again(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member)
    request_unmanage(ports, member, volume_id)
    assert recovery.recover(ports) == 0  # it has its job: nothing to settle
    [job] = ports.jobs.pending(ports.node)
    UNMANAGE.run(ports, job)
    UNMANAGE.run(ports, job)  # a repeat after the row went is a no-op
    assert ports.volumes.get(volume_id) is None and ports.jobs.pending(ports.node) == []


def test_an_unmanage_that_lost_its_job_goes_back_and_says_why(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member)
    assert ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.ERROR, override=True)
    request_unmanage(ports, member, volume_id)
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)
    assert recovery.recover(ports) == 1
    assert ports.volumes.get(volume_id).status == VolumeStatus.ERROR  # type: ignore[union-attr]
    [told] = ports.messages.find(member.project_id, volume_id)
    assert told.user_message.startswith("unmanage volume: interrupted")


def test_giving_up_keeps_the_volume_managed_in_its_old_status(ports: Ports, member: Caller) -> None:
    volume_id = _available(ports, member)
    request_unmanage(ports, member, volume_id)
    [job] = ports.jobs.pending(ports.node)
    UNMANAGE.give_up(ports, job, "internal error: the database went away")
    kept = ports.volumes.get(volume_id)
    assert kept is not None and kept.status == VolumeStatus.AVAILABLE
    assert ports.jobs.pending(ports.node) == []
    [told] = ports.messages.find(member.project_id, volume_id)
    assert told.user_message == "unmanage volume: internal error: the database went away"

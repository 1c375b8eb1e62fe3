from __future__ import annotations

import pytest

from firebrick.domain.model import Caller, Page
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput, NotFound, QuotaExceeded, StorageError
from firebrick.storage import FakeBackend
from tests.fixtures_domain import drain


def _fake(ports: Ports) -> FakeBackend:
    driver = ports.pools[0].driver
    assert isinstance(driver, FakeBackend)
    return driver


def test_create_records_creating_with_its_job_then_becomes_available(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=2, name="v"))
    assert ports.volumes.get(volume.id).status == VolumeStatus.CREATING  # type: ignore[union-attr]
    assert [j.kind for j in ports.jobs.for_resource(volume.id)] == ["volume.create"]
    assert drain(ports) == 1
    done = ports.volumes.get(volume.id)
    assert done is not None and done.status == VolumeStatus.AVAILABLE
    assert _fake(ports).inspect(volume.id).virtual_size == 2 * 1024**3
    assert ports.jobs.for_resource(volume.id) == []


def test_a_volume_that_does_not_fit_ends_in_error_with_a_reason(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=50))
    drain(ports)
    failed = ports.volumes.get(volume.id)
    assert failed is not None and failed.status == VolumeStatus.ERROR
    assert failed.error_reason and "space" in failed.error_reason
    [told] = ports.messages.find(member.project_id, volume.id)
    assert told.user_message == f"create volume: {failed.error_reason}" and told.event_id == "VOLUME_VOLUME_001_001"
    with pytest.raises(StorageError):
        _fake(ports).inspect(volume.id)


@pytest.mark.parametrize("size", [0, -1])
def test_size_must_be_positive(ports: Ports, member: Caller, size: int) -> None:
    with pytest.raises(InvalidInput, match="greater than 0"):
        request_create(ports, member, CreateRequest(size=size))
    assert ports.volumes.count(Page(), None) == 0


def test_unknown_type_is_not_found(ports: Ports, member: Caller) -> None:
    with pytest.raises(NotFound):
        request_create(ports, member, CreateRequest(size=1, volume_type="gold"))


def test_unknown_zone_is_refused(ports: Ports, member: Caller) -> None:
    with pytest.raises(InvalidInput, match="Availability zone 'mars' is invalid"):
        request_create(ports, member, CreateRequest(size=1, availability_zone="mars"))


def test_quota_refusal_creates_nothing(ports: Ports, member: Caller) -> None:
    ports.quotas.set(member.project_id, {"gigabytes": 3})
    request_create(ports, member, CreateRequest(size=2))
    with pytest.raises(QuotaExceeded) as refused:
        request_create(ports, member, CreateRequest(size=2))
    assert refused.value.resource == "gigabytes" and refused.value.in_use == 2 and refused.value.limit == 3
    assert ports.volumes.count(Page(), None) == 1
    assert len(ports.jobs.pending(ports.node)) == 1


def test_clone_takes_the_source_size_and_must_not_shrink(ports: Ports, member: Caller) -> None:
    source = request_create(ports, member, CreateRequest(size=2))
    drain(ports)
    clone = request_create(ports, member, CreateRequest(size=None, source_volid=source.id))
    assert clone.size == 2
    with pytest.raises(InvalidInput, match="cannot be smaller"):
        request_create(ports, member, CreateRequest(size=1, source_volid=source.id))


def test_another_projects_volume_cannot_be_cloned(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    theirs = request_create(ports, admin_caller, CreateRequest(size=1))
    drain(ports)
    with pytest.raises(NotFound):
        request_create(ports, member, CreateRequest(size=1, source_volid=theirs.id))

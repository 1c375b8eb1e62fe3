from __future__ import annotations

import pytest

from firebrick.domain import recovery
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.extend import request_extend
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import InvalidInput, InvalidState, QuotaExceeded
from tests.fixtures_domain import drain

GiB = 1024**3


def _volume(ports: Ports, caller: Caller, size: int = 1) -> str:
    volume = request_create(ports, caller, CreateRequest(size=size))
    drain(ports)
    return volume.id


def test_extend_goes_through_extending_to_available_with_the_new_size(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    request_extend(ports, member, volume_id, 3)
    pending = ports.volumes.get(volume_id)
    assert pending is not None and (pending.status, pending.size, pending.resize_target) == ("extending", 1, 3)
    drain(ports)
    done = ports.volumes.get(volume_id)
    assert done is not None and (done.status, done.size, done.resize_target) == ("available", 3, None)
    assert ports.pools[0].driver.inspect(volume_id).virtual_size == 3 * GiB


def test_a_pending_extend_holds_its_size_against_quota(ports: Ports, member: Caller) -> None:
    first, second = _volume(ports, member), _volume(ports, member)
    ports.quotas.set(member.project_id, {"gigabytes": 4})
    request_extend(ports, member, first, 3)  # holds 3 of 4 with the other volume's 1
    with pytest.raises(QuotaExceeded):
        request_extend(ports, member, second, 2)
    assert ports.volumes.get(second).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]


def test_extend_requires_a_larger_size_and_an_available_volume(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member, size=2)
    with pytest.raises(InvalidInput, match=r"\(current: 2, extended: 2\)"):
        request_extend(ports, member, volume_id, 2)
    request_extend(ports, member, volume_id, 3)
    with pytest.raises(InvalidState, match="currently extending"):
        request_extend(ports, member, volume_id, 4)


def test_type_size_limits_apply(ports: Ports, member: Caller) -> None:
    from firebrick.domain.volume_types import create_type

    create_type(ports, "capped", None, True, {"provisioning:max_vol_size": "2"})
    volume = request_create(ports, member, CreateRequest(size=1, volume_type="capped"))
    drain(ports)
    with pytest.raises(InvalidInput, match="larger than the type's maximum 2"):
        request_extend(ports, member, volume.id, 3)


def test_a_crash_after_the_backend_grew_resumes_to_the_new_size(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    request_extend(ports, member, volume_id, 2)
    ports.pools[0].driver.resize(volume_id, 2)  # the worker grew it, then died
    drain(ports)
    done = ports.volumes.get(volume_id)
    assert done is not None and (done.status, done.size) == ("available", 2)


def test_an_extend_that_lost_its_job_ends_in_error_extending_and_releases_its_size(
    ports: Ports, member: Caller
) -> None:
    volume_id = _volume(ports, member)
    request_extend(ports, member, volume_id, 5)
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)
    assert recovery.recover(ports) == 1
    stuck = ports.volumes.get(volume_id)
    assert stuck is not None and (stuck.status, stuck.size, stuck.resize_target) == ("error_extending", 1, None)
    assert ports.quotas.usage(member.project_id).gigabytes == 1

"""A crash at any step: the next start finishes the work or marks it failed, never stuck."""

from __future__ import annotations

from firebrick.domain import recovery
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.delete import request_delete
from firebrick.domain.volume.states import VolumeStatus
from tests.fixtures_domain import drain


def test_crash_after_the_backend_wrote_but_before_the_status_resumes_to_available(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    # The worker did the side effect, then died before recording it.
    ports.pools[0].driver.create(volume.id, 1, ports.pools[0].default_format)
    assert recovery.recover(ports) == 0  # it has a job: not orphaned
    drain(ports)
    assert ports.volumes.get(volume.id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]


def test_crash_mid_delete_resumes_to_gone(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    request_delete(ports, member, volume.id)
    ports.pools[0].driver.delete(volume.id)  # removed the file, died before removing the row
    drain(ports)
    assert ports.volumes.get(volume.id) is None


def test_a_transitional_volume_without_a_job_goes_to_error_with_a_reason(ports: Ports, member: Caller) -> None:
    creating = request_create(ports, member, CreateRequest(size=1))
    done = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    request_delete(ports, member, done.id)
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)  # lost jobs: the worst case
    ports.volumes.transition(creating.id, {VolumeStatus.AVAILABLE}, VolumeStatus.CREATING, override=True)
    assert recovery.recover(ports) == 2
    stuck_create, stuck_delete = ports.volumes.get(creating.id), ports.volumes.get(done.id)
    assert stuck_create is not None and stuck_create.status == VolumeStatus.ERROR
    assert stuck_delete is not None and stuck_delete.status == VolumeStatus.ERROR_DELETING
    assert "interrupted" in (stuck_create.error_reason or "")
    told = {m.resource_uuid: m.user_message for m in ports.messages.find(member.project_id)}
    assert told[creating.id].startswith("create volume: interrupted")
    assert told[done.id].startswith("delete volume: interrupted")

from __future__ import annotations

import pytest

from firebrick.domain import recovery
from firebrick.domain.image.delete import delete_image
from firebrick.domain.model import Caller, Image, Page
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.image_metadata import set_image_metadata
from firebrick.domain.volume.reset_status import request_reset_status
from firebrick.domain.volume.states import VolumeStatus
from firebrick.domain.volume.upload_image import UploadRequest, request_upload
from firebrick.errors import InvalidState, NotFound
from firebrick.storage import FakeBackend
from tests.fixtures_domain import drain


def _volume(ports: Ports, caller: Caller) -> str:
    volume = request_create(ports, caller, CreateRequest(size=1))
    drain(ports)
    return volume.id


def _image(ports: Ports, image_id: str) -> Image | None:
    return ports.image_service().records.get(image_id)


def test_upload_goes_through_uploading_and_ends_with_an_active_image(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    request = UploadRequest(image_name="snap", disk_format="qcow2", visibility="public", protected=True)
    volume, image = request_upload(ports, member, volume_id, request)
    assert (volume.status, volume.previous_status) == ("uploading", "available")
    assert (image.status, image.name, image.disk_format, image.container_format) == ("queued", "snap", "qcow2", "bare")
    assert (image.visibility, image.protected, image.owner) == ("public", True, member.project_id)
    assert [j.kind for j in ports.jobs.for_resource(volume_id)] == ["volume.upload_image"]
    drain(ports)
    done, made = ports.volumes.get(volume_id), _image(ports, image.id)
    assert done is not None and (done.status, done.previous_status) == ("available", None)
    assert made is not None and made.status == "active" and made.size and made.checksum and made.os_hash_value
    # The fake holds no bytes: what it exported is a marker naming the volume and the format.
    data = ports.image_service().files.path(image.id).read_bytes()
    assert data == f"fake qcow2 export of volume {volume_id}: {1024**3} bytes\n".encode()


def test_custom_image_properties_of_the_volume_are_carried_over(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    set_image_metadata(ports, member, volume_id, {"os_distro": "debian", "image_id": "old", "checksum": "old"})
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    assert image.properties == {"os_distro": "debian"}


def test_only_an_available_volume_is_uploaded_force_or_not(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    ports.volumes.transition(volume_id, {VolumeStatus.AVAILABLE}, VolumeStatus.IN_USE)  # as if attached
    with pytest.raises(InvalidState, match=f"Invalid volume: Volume {volume_id} status must be available"):
        request_upload(ports, member, volume_id, UploadRequest(image_name="i", force=True))
    assert ports.volumes.get(volume_id).status == VolumeStatus.IN_USE  # type: ignore[union-attr]
    assert ports.image_service().records.find(Page(), None) == []  # no image was left behind


def test_another_projects_volume_is_not_found(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    volume_id = _volume(ports, admin_caller)
    with pytest.raises(NotFound):
        request_upload(ports, member, volume_id, UploadRequest(image_name="i"))


def test_a_backend_failure_removes_the_image_and_tells_the_project(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    driver = ports.pools[0].driver
    assert isinstance(driver, FakeBackend)
    driver.delete(volume_id)  # the backend lost the volume: the export fails
    drain(ports)
    assert _image(ports, image.id) is None
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    [told] = ports.messages.find(member.project_id, volume_id)
    assert told.event_id == "VOLUME_VOLUME_003_004"
    assert told.user_message == f"copy volume to image: volume {volume_id} does not exist"


def test_an_image_deleted_during_the_upload_returns_the_volume(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    delete_image(ports, member, image.id)
    drain(ports)
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert ports.messages.find(member.project_id, volume_id)


def test_a_crash_mid_upload_reruns_from_the_start(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    service = ports.image_service()
    service.records.transition(image.id, {"queued"}, "saving")  # the worker started, then died
    service.files.path(image.id).with_name(f".tmp-image-{image.id}").write_bytes(b"half")
    assert recovery.recover(ports) == 0  # it has its job: nothing is orphaned
    drain(ports)
    assert _image(ports, image.id).status == "active"  # type: ignore[union-attr]
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert not list(service.files.path(image.id).parent.glob(".tmp-*"))


def test_a_crash_after_the_image_became_active_only_returns_the_volume(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    [job] = ports.jobs.for_resource(volume_id)
    ports.image_service().records.transition(image.id, {"queued"}, "active", size=1)  # finished, died
    drain(ports)
    assert _image(ports, image.id).size == 1  # type: ignore[union-attr]  # not converted again
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert ports.jobs.get(job.id) is None


def test_an_upload_that_lost_its_job_returns_the_volume_and_requeues_the_image(ports: Ports, member: Caller) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    ports.image_service().records.transition(image.id, {"queued"}, "saving")
    for job in ports.jobs.pending(ports.node):
        ports.jobs.finish(job.id)
    assert recovery.recover(ports) == 2
    assert ports.volumes.get(volume_id).status == VolumeStatus.AVAILABLE  # type: ignore[union-attr]
    assert _image(ports, image.id).status == "queued"  # type: ignore[union-attr]
    [told] = ports.messages.find(member.project_id, volume_id)
    assert told.user_message.startswith("copy volume to image: interrupted")


def test_a_volume_force_deleted_mid_upload_takes_its_unfinished_image_along(
    ports: Ports, member: Caller, admin_caller: Caller
) -> None:
    volume_id = _volume(ports, member)
    _, image = request_upload(ports, member, volume_id, UploadRequest(image_name="i"))
    request_reset_status(ports, admin_caller, volume_id, VolumeStatus.ERROR, None, None)
    drain(ports)
    assert _image(ports, image.id) is None

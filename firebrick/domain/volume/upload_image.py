"""Uploading a volume to an image (``os-volume_upload_image``).

``request_upload`` checks the volume is ``available`` and, in one transaction,
records a ``queued`` image (carrying the volume's custom image properties),
moves the volume to ``uploading`` (its status kept in ``previous_status``) and
queues the job. As with Cinder's default ``enable_force_upload = False``,
``force`` is accepted and ignored: an in-use volume is refused.

``run_upload`` is the worker step: the backend converts the volume into the
image store in the asked disk format (qemu-img, skipping holes), the digests
are computed, the image becomes ``active``, and the volume returns to
``in-use`` if it has attachments, else ``available``. Every part repeats
safely: a rerun after a crash converts again from scratch, and one that finds
the image already active only returns the volume.

``give_up_upload`` is the compensation: the image is removed if it never got
its data (still ``queued`` or ``saving``), the volume returns the same way, and
its project is told why in a user message (Cinder's event VOLUME_VOLUME_003_004).
"""

from __future__ import annotations

from dataclasses import dataclass

from firebrick.domain import messages
from firebrick.domain.image import data
from firebrick.domain.image.attributes import CORE, READ_ONLY, RESERVED
from firebrick.domain.image.create import ImageSpec, new_image
from firebrick.domain.image.states import ImageStatus, Visibility
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import Caller, Image, Job, Volume
from firebrick.domain.ports import Ports
from firebrick.domain.volume.lookup import visible_volume
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import BackendError, InvalidInput, InvalidState, NotFound
from firebrick.storage.base import IMAGE_FORMATS, GiB
from firebrick.storage.images import ImageData

__all__ = ["UPLOAD", "UploadRequest", "request_upload"]

# Cinder's glance_core_properties: a volume's image metadata under these names describes
# the image it came from, not the one being made, so they are not copied.
_NOT_COPIED = frozenset(
    {"checksum", "container_format", "disk_format", "image_name", "image_id", "min_disk", "min_ram", "name", "size"}
) | READ_ONLY | RESERVED | CORE
_UNFINISHED = frozenset({ImageStatus.QUEUED, ImageStatus.SAVING})


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """The action's body, validated: ``disk_format`` is a key of ``IMAGE_FORMATS``."""

    image_name: str
    disk_format: str = "raw"
    container_format: str = "bare"
    visibility: str = Visibility.PRIVATE
    protected: bool = False
    force: bool = False


def request_upload(ports: Ports, caller: Caller, volume_id: str, request: UploadRequest) -> tuple[Volume, Image]:
    """Start uploading a volume to a new image; returns the volume (now uploading) and the image.

    Raises:
        NotFound: the caller cannot see the volume.
        InvalidInput: the disk format is none qemu-img writes.
        InvalidState: the volume is not available (``force`` does not change that).
    """
    if request.disk_format not in IMAGE_FORMATS:
        raise InvalidInput(f"Invalid disk format '{request.disk_format}' for image.")
    volume = visible_volume(ports, caller, volume_id)
    metadata = volume.image_metadata
    properties = {k: v for k, v in metadata.items() if k not in _NOT_COPIED and not k.startswith("os_glance")}
    spec = ImageSpec(
        name=request.image_name,
        visibility=request.visibility,
        protected=request.protected,
        disk_format=request.disk_format,
        container_format=request.container_format,
        properties=properties,
    )
    image = new_image(ports, caller, spec)
    job = new_job(ports, UPLOAD, volume.id, image_id=image.id, disk_format=request.disk_format)
    records = ports.image_service().records
    expected = {VolumeStatus.AVAILABLE}
    if not records.insert_with_volume_move(
        image, volume.id, expected, VolumeStatus.UPLOADING, job, previous_status=volume.status
    ):
        current = ports.volumes.get(volume.id)
        status = current.status if current else volume.status
        message = f"Invalid volume: Volume {volume.id} status must be {VolumeStatus.AVAILABLE}"
        raise InvalidState("Volume", volume.id, status, expected, message=message)
    ports.wake_worker()
    return ports.volumes.get(volume.id) or volume, image


def run_upload(ports: Ports, job: Job) -> None:
    """Worker step; see the module docstring for why it is safe to repeat."""
    volume = ports.volumes.get(job.resource_id)
    image_id = str(job.payload["image_id"])
    if volume is None or volume.status != VolumeStatus.UPLOADING:
        _drop_unfinished(ports, image_id)  # the volume moved on (force-deleted, reset): the image is moot
        ports.jobs.finish(job.id)
        return
    service = ports.image_service()
    image = service.records.get(image_id)
    if image is None or image.status not in (*_UNFINISHED, ImageStatus.ACTIVE):
        give_up_upload(ports, job, f"image {image_id} was deleted or changed during the upload")
        return
    if image.status != ImageStatus.ACTIVE:
        try:
            _save(ports, volume, image, str(job.payload["disk_format"]))
        except (BackendError, NotFound) as error:
            give_up_upload(ports, job, str(error))
            return
    back = _settled(volume)
    ports.volumes.transition(volume.id, {VolumeStatus.UPLOADING}, back, done_job=job.id, previous_status=None)


def _save(ports: Ports, volume: Volume, image: Image, disk_format: str) -> None:
    """Convert the volume into the image's data (replacing any partial data) and make the image active."""
    service = ports.image_service()
    service.records.transition(image.id, _UNFINISHED, ImageStatus.SAVING, node=ports.node)
    driver, fmt = ports.pool(volume.host).driver, IMAGE_FORMATS[disk_format]

    def export() -> ImageData:
        return service.files.fill(image.id, lambda tmp: driver.export(volume.id, tmp, fmt))

    data.finish_saving(service, image, export, virtual_size=volume.size * GiB)


def give_up_upload(ports: Ports, job: Job, reason: str) -> None:
    """Compensation: remove the image unless it got its data, return the volume, tell its project."""
    _drop_unfinished(ports, str(job.payload["image_id"]))
    volume = ports.volumes.get(job.resource_id)
    if volume is not None:
        message = messages.new_message(volume.project_id, messages.Event.COPY_VOLUME_TO_IMAGE, volume.id, reason)
        ports.volumes.transition(
            volume.id, {VolumeStatus.UPLOADING}, _settled(volume), done_job=job.id, message=message,
            previous_status=None,
        )  # fmt: skip
    ports.jobs.finish(job.id)


def _settled(volume: Volume) -> VolumeStatus:
    # Cinder's rule after an upload, done or not: the attachments decide, not previous_status.
    return VolumeStatus.IN_USE if volume.attachments else VolumeStatus.AVAILABLE


def _drop_unfinished(ports: Ports, image_id: str) -> None:
    service = ports.image_service()
    if service.records.delete(image_id, only_in=_UNFINISHED):
        service.files.delete(image_id)


UPLOAD = JobKind("volume.upload_image", run_upload, give_up_upload)

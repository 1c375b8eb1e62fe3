"""An image's data: upload (``PUT .../file``), download (``GET .../file``), and what
an upload cut off by a crash leaves behind.

An upload moves the image ``queued`` → ``saving`` (so two uploads cannot race),
streams the data to a temporary file while digesting it, and moves the image to
``active`` with its size and digests. A failed upload (the client went away, the
disk filled) returns the image to ``queued``, as Glance does, so it can be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from firebrick.domain.image._lookup import visible_image
from firebrick.domain.image.states import ImageStatus
from firebrick.domain.model import Caller, Image
from firebrick.domain.ports import ImagePorts, Ports
from firebrick.errors import Conflict, InvalidInput, NotFound, NotPermitted
from firebrick.storage.base import IMAGE_FORMATS
from firebrick.storage.images import ImageData

__all__ = ["download_data", "finish_saving", "settle_interrupted", "upload_data"]


def upload_data(ports: Ports, caller: Caller, image_id: str, chunks: Iterable[bytes]) -> Image:
    """Store the data of a queued image and make it active.

    Runs for as long as the upload lasts (call it off the event loop). Whatever
    ``chunks`` raises propagates, after the image is back in ``queued``.

    Raises:
        NotFound: the caller cannot see the image, or it was deleted during the upload.
        InvalidInput: the image's disk or container format is not set yet.
        Conflict: the image is not queued (it has data, or an upload is in progress).
        StorageError: the data could not be written.
    """
    image, service = visible_image(ports, caller, image_id)
    if image.disk_format is None or image.container_format is None:
        raise InvalidInput("Properties disk_format, container_format must be set prior to saving data.")
    # The data lands in this node's store: the record says so from the start (see settle_interrupted).
    if not service.records.transition(image.id, {ImageStatus.QUEUED}, ImageStatus.SAVING, node=ports.node):
        current = service.records.get(image.id)
        status = current.status if current else image.status
        raise Conflict(f"Image status transition from {status} to {ImageStatus.SAVING} is not allowed")
    return finish_saving(service, image, lambda: service.files.receive(image.id, chunks))


def finish_saving(
    service: ImagePorts, image: Image, store: Callable[[], ImageData], virtual_size: int | None = None
) -> Image:
    """Run ``store`` for an image in ``saving`` and record the result: ``active`` with size,
    digests and virtual size (read from the data by qemu-img unless the caller knows it).
    When ``store`` raises, the image goes back to ``queued`` and the error propagates.

    Raises:
        NotFound: the image was deleted meanwhile (its new data is removed again).
    """
    try:
        data = store()
    except BaseException:
        service.records.transition(image.id, {ImageStatus.SAVING}, ImageStatus.QUEUED)
        raise
    fmt = IMAGE_FORMATS.get(image.disk_format or "")
    if virtual_size is None and fmt:
        virtual_size = service.files.virtual_size(image.id, fmt)
    done = service.records.transition(
        image.id, {ImageStatus.SAVING}, ImageStatus.ACTIVE,
        size=data.size, virtual_size=virtual_size, checksum=data.checksum,
        os_hash_algo=data.hash_algo, os_hash_value=data.hash_value,
    )  # fmt: skip
    if not done:
        service.files.delete(image.id)
        raise NotFound(
            "Image", image.id,
            f"Image {image.id} could not be found after upload. The image may have been deleted during the upload.",
        )  # fmt: skip
    found = service.records.get(image.id)
    return found if found is not None else image


def download_data(ports: Ports, caller: Caller, image_id: str) -> tuple[Image, Iterator[bytes] | None]:
    """The image and its data in chunks; no chunks (None) when it has no data yet.

    Raises:
        NotFound: the caller cannot see the image.
        NotPermitted: the image is deactivated and the caller is no admin.
        StorageError: the record says active but this node holds no data for it.
    """
    image, service = visible_image(ports, caller, image_id)
    if image.status == ImageStatus.DEACTIVATED and not caller.is_admin:
        raise NotPermitted("The requested image has been deactivated. Image data download is forbidden.")
    if image.status not in (ImageStatus.ACTIVE, ImageStatus.DEACTIVATED):
        return image, None
    return image, service.files.read(image.id)


def settle_interrupted(ports: Ports) -> int:
    """After a restart: this node's images left ``saving`` by an upload that died with the
    process (no job will finish them) go back to ``queued``, their partial data removed.

    Images a queued job is filling (an upload from a volume) are left to that job.
    Returns how many moved.
    """
    if ports.images is None:
        return 0
    service = ports.images
    owned = {job.payload.get("image_id") for job in ports.jobs.pending(ports.node)}
    moved = 0
    for image in service.records.in_status({ImageStatus.SAVING}, ports.node):
        if image.id in owned:
            continue
        service.files.discard_partial(image.id)
        moved += service.records.transition(image.id, {ImageStatus.SAVING}, ImageStatus.QUEUED)
    return moved

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from firebrick.domain import recovery
from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.data import download_data, upload_data
from firebrick.domain.image.delete import delete_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import Conflict, InvalidInput, NotFound


def _queued(ports: Ports, caller: Caller, **fields: object) -> str:
    spec = {"disk_format": "raw", "container_format": "bare", **fields}
    return create_image(ports, caller, ImageSpec(**spec)).id  # type: ignore[arg-type]


def test_upload_makes_the_image_active_with_size_and_digests(ports: Ports, member: Caller) -> None:
    image_id = _queued(ports, member)
    chunks = [b"a" * 70_000, b"", b"b" * 5]
    image = upload_data(ports, member, image_id, chunks)
    whole = b"".join(chunks)
    assert (image.status, image.size, image.virtual_size) == ("active", len(whole), len(whole))
    assert image.checksum == hashlib.md5(whole).hexdigest()
    assert (image.os_hash_algo, image.os_hash_value) == ("sha512", hashlib.sha512(whole).hexdigest())
    _, data = download_data(ports, member, image_id)
    assert data is not None and b"".join(data) == whole


def test_an_image_without_data_downloads_nothing(ports: Ports, member: Caller) -> None:
    assert download_data(ports, member, _queued(ports, member))[1] is None


def test_formats_must_be_set_before_data(ports: Ports, member: Caller) -> None:
    image_id = create_image(ports, member, ImageSpec()).id
    with pytest.raises(InvalidInput, match="must be set prior to saving data"):
        upload_data(ports, member, image_id, [b"x"])


def test_data_is_uploaded_once(ports: Ports, member: Caller) -> None:
    image_id = _queued(ports, member)
    upload_data(ports, member, image_id, [b"x"])
    with pytest.raises(Conflict, match="from active to saving is not allowed"):
        upload_data(ports, member, image_id, [b"y"])


def test_a_broken_upload_returns_the_image_to_queued_and_leaves_no_file(ports: Ports, member: Caller) -> None:
    image_id = _queued(ports, member)

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        upload_data(ports, member, image_id, broken())
    files = ports.image_service().files
    assert ports.image_service().records.get(image_id).status == "queued"  # type: ignore[union-attr]
    assert not files.path(image_id).exists() and not list(files.path(image_id).parent.glob(".tmp-*"))
    assert upload_data(ports, member, image_id, [b"again"]).size == 5  # and it can be retried


def test_an_image_deleted_during_its_upload_keeps_no_data(ports: Ports, member: Caller) -> None:
    image_id = _queued(ports, member)

    def racing() -> Iterator[bytes]:
        yield b"data"
        delete_image(ports, member, image_id)

    with pytest.raises(NotFound, match="could not be found after upload"):
        upload_data(ports, member, image_id, racing())
    assert not ports.image_service().files.path(image_id).exists()


def test_an_upload_cut_off_by_a_crash_is_queued_again_on_start(ports: Ports, member: Caller) -> None:
    image_id = _queued(ports, member)
    service = ports.image_service()
    service.records.transition(image_id, {"queued"}, "saving")  # the process died mid-upload
    service.files.path(image_id).with_name(f".tmp-image-{image_id}").write_bytes(b"half")
    assert recovery.recover(ports) == 1
    assert service.records.get(image_id).status == "queued"  # type: ignore[union-attr]
    assert not list(service.files.path(image_id).parent.glob(".tmp-*"))

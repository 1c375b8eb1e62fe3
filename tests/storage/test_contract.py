"""The StorageBackend contract, checked the same way against every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from firebrick.errors import StorageError
from firebrick.storage import (
    IMAGE_FORMATS,
    DiskFormat,
    FakeBackend,
    FileBackend,
    GiB,
    ImageSource,
    SnapshotSource,
    StorageBackend,
    VolumeSource,
)

MakeBackend = Callable[[int], StorageBackend]


@pytest.fixture(params=["fake", "file"])
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> MakeBackend:
    def make(capacity_gb: int) -> StorageBackend:
        if request.param == "fake":
            return FakeBackend(capacity_gb=capacity_gb)
        return FileBackend(tmp_path / "pool", capacity_gb=capacity_gb)

    return make


@pytest.fixture
def backend(make_backend: MakeBackend) -> StorageBackend:
    return make_backend(10)


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_create_reports_size_and_format(backend: StorageBackend, fmt: DiskFormat) -> None:
    backend.create("v1", 1, fmt)

    info = backend.inspect("v1")
    assert (info.format, info.virtual_size) == (fmt.value, GiB)


def test_create_twice_is_a_no_op(backend: StorageBackend) -> None:
    backend.create("v1", 1, DiskFormat.QCOW2)
    backend.create("v1", 1, DiskFormat.QCOW2)

    assert backend.inspect("v1").virtual_size == GiB
    assert backend.capacity().free_bytes == 9 * GiB


@pytest.mark.parametrize(("size_gb", "fmt"), [(2, DiskFormat.QCOW2), (1, DiskFormat.RAW)])
def test_create_again_with_other_size_or_format_fails(backend: StorageBackend, size_gb: int, fmt: DiskFormat) -> None:
    backend.create("v1", 1, DiskFormat.QCOW2)

    with pytest.raises(StorageError, match="already exists"):
        backend.create("v1", size_gb, fmt)


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_resize_grows_and_refuses_to_shrink(backend: StorageBackend, fmt: DiskFormat) -> None:
    backend.create("v1", 1, fmt)

    backend.resize("v1", 2)
    backend.resize("v1", 2)

    assert backend.inspect("v1").virtual_size == 2 * GiB
    with pytest.raises(StorageError, match="cannot shrink"):
        backend.resize("v1", 1)


def test_resize_of_missing_volume_fails(backend: StorageBackend) -> None:
    with pytest.raises(StorageError, match="volume nope does not exist"):
        backend.resize("nope", 2)


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_create_from_snapshot_grows_to_the_asked_size(backend: StorageBackend, fmt: DiskFormat) -> None:
    backend.create("v1", 1, DiskFormat.QCOW2)
    backend.snapshot("v1", "s1")
    backend.snapshot("v1", "s1")

    backend.create("v2", 2, fmt, SnapshotSource("s1"))

    info = backend.inspect("v2")
    assert (info.format, info.virtual_size) == (fmt.value, 2 * GiB)
    assert backend.capacity().free_bytes == 6 * GiB


def test_snapshot_outlives_its_volume(backend: StorageBackend) -> None:
    backend.create("v1", 1, DiskFormat.RAW)
    backend.snapshot("v1", "s1")
    backend.delete("v1")

    backend.create("v2", 1, DiskFormat.RAW, SnapshotSource("s1"))

    assert backend.inspect("v2").virtual_size == GiB


def test_revert_needs_both_objects_and_keeps_the_volume(backend: StorageBackend) -> None:
    backend.create("v1", 1, DiskFormat.RAW)
    backend.snapshot("v1", "s1")
    backend.revert("v1", "s1")
    assert backend.inspect("v1").virtual_size == GiB
    with pytest.raises(StorageError):
        backend.revert("v1", "missing")
    with pytest.raises(StorageError):
        backend.revert("missing", "s1")


def test_create_from_volume(backend: StorageBackend) -> None:
    backend.create("v1", 1, DiskFormat.RAW)

    backend.create("v2", 1, DiskFormat.QCOW2, VolumeSource("v1"))

    info = backend.inspect("v2")
    assert (info.format, info.virtual_size) == ("qcow2", GiB)


def test_create_smaller_than_source_fails(backend: StorageBackend) -> None:
    backend.create("v1", 2, DiskFormat.RAW)

    with pytest.raises(StorageError, match="smaller than its source"):
        backend.create("v2", 1, DiskFormat.RAW, VolumeSource("v1"))


def test_missing_sources_fail(backend: StorageBackend) -> None:
    with pytest.raises(StorageError, match="volume nope does not exist"):
        backend.create("v2", 1, DiskFormat.RAW, VolumeSource("nope"))
    with pytest.raises(StorageError, match="snapshot nope does not exist"):
        backend.create("v2", 1, DiskFormat.RAW, SnapshotSource("nope"))
    with pytest.raises(StorageError, match="volume nope does not exist"):
        backend.snapshot("nope", "s1")


def test_delete_is_idempotent(backend: StorageBackend) -> None:
    backend.create("v1", 1, DiskFormat.RAW)
    backend.snapshot("v1", "s1")

    for _ in range(2):
        backend.delete("v1")
        backend.delete_snapshot("s1")

    with pytest.raises(StorageError, match="does not exist"):
        backend.inspect("v1")
    assert backend.capacity().free_bytes == 10 * GiB


def test_capacity_counts_volumes_and_snapshots(make_backend: MakeBackend) -> None:
    backend = make_backend(3)
    assert backend.capacity().total_bytes == 3 * GiB
    assert backend.capacity().free_bytes == 3 * GiB

    backend.create("v1", 1, DiskFormat.RAW)
    backend.snapshot("v1", "s1")

    assert backend.capacity().free_bytes == 1 * GiB


def test_full_pool_refuses_create_snapshot_and_growth(make_backend: MakeBackend) -> None:
    backend = make_backend(3)
    backend.create("v1", 2, DiskFormat.RAW)

    with pytest.raises(StorageError, match="need 2 GiB, 1 GiB free"):
        backend.create("v2", 2, DiskFormat.RAW)
    with pytest.raises(StorageError, match="insufficient free space in pool"):
        backend.snapshot("v1", "s1")
    with pytest.raises(StorageError, match="need 2 GiB, 1 GiB free"):
        backend.resize("v1", 4)


def test_growth_only_needs_the_difference(make_backend: MakeBackend) -> None:
    backend = make_backend(3)
    backend.create("v1", 2, DiskFormat.QCOW2)

    backend.resize("v1", 3)

    assert backend.capacity().free_bytes == 0
    backend.delete("v1")
    assert backend.capacity().free_bytes == 3 * GiB


@pytest.mark.parametrize("fmt", sorted(set(IMAGE_FORMATS.values())))
def test_export_writes_the_target_in_each_image_format_and_repeats(
    backend: StorageBackend, tmp_path: Path, fmt: str
) -> None:
    backend.create("v1", 1, DiskFormat.QCOW2)
    target = tmp_path / "export"

    backend.export("v1", target, fmt)
    backend.export("v1", target, fmt)

    assert target.is_file() and target.stat().st_size > 0


def test_export_refuses_a_missing_volume_and_an_unknown_format(backend: StorageBackend, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="volume nope does not exist"):
        backend.export("nope", tmp_path / "export", "raw")
    backend.create("v1", 1, DiskFormat.RAW)
    with pytest.raises(StorageError, match="unknown image format"):
        backend.export("v1", tmp_path / "export", "iso9660")


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_create_from_an_image_grows_it_to_the_volume_size(
    backend: StorageBackend, tmp_path: Path, fmt: DiskFormat
) -> None:
    image = tmp_path / "image.raw"
    image.write_bytes(b"boot" * 256)

    backend.create("v1", 1, fmt, ImageSource(image, "raw", 1024))
    backend.create("v1", 1, fmt, ImageSource(image, "raw", 1024))

    assert backend.inspect("v1").virtual_size == GiB


def test_create_from_an_image_refuses_one_too_big_or_missing(backend: StorageBackend, tmp_path: Path) -> None:
    image = tmp_path / "image.raw"
    with image.open("wb") as stream:
        stream.truncate(2 * GiB)

    with pytest.raises(StorageError, match="cannot be smaller than its source"):
        backend.create("v1", 1, DiskFormat.RAW, ImageSource(image, "raw", 2 * GiB))
    with pytest.raises(StorageError, match="image file gone does not exist"):
        backend.create("v1", 1, DiskFormat.RAW, ImageSource(tmp_path / "gone", "raw", 0))

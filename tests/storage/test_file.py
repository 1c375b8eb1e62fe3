"""FileBackend against real files and the real qemu-img."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from firebrick import fencing
from firebrick.errors import StorageError
from firebrick.storage import (
    DiskFormat,
    FileBackend,
    GiB,
    ImageSource,
    SnapshotSource,
    VolumeSource,
    _qemu_img,
)

MiB = 1024**2
OFFSETS = (0, 512 * MiB + 4096)
ORIGINAL = bytes(range(256)) * 16
OVERWRITE = b"\xa5" * 4096


@pytest.fixture
def pool(tmp_path: Path) -> FileBackend:
    return FileBackend(tmp_path / "pool", capacity_gb=10)


def _write_pattern(path: Path, pattern: bytes) -> None:
    with path.open("r+b") as stream:
        for offset in OFFSETS:
            stream.seek(offset)
            stream.write(pattern)


def _sha256(path: Path, length: int = GiB) -> str:
    """Hash the first ``length`` bytes, feeding holes in as zeros rather than reading them.

    Reading a hole makes the kernel fill page cache with zeros, which made
    these tests several times slower; the digest is the same either way.
    """
    digest = hashlib.sha256()
    with path.open("rb", buffering=0) as stream:
        offset = 0
        while offset < length:
            data = _seek(stream.fileno(), offset, os.SEEK_DATA, length)
            _hash_zeros(digest, data - offset)
            offset = _seek(stream.fileno(), data, os.SEEK_HOLE, length)
            stream.seek(data)
            digest.update(stream.read(offset - data))
    return digest.hexdigest()


def _seek(fd: int, offset: int, whence: int, limit: int) -> int:
    try:
        return min(os.lseek(fd, offset, whence), limit)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: no data at or after offset
            raise
        return limit


def _hash_zeros(digest: hashlib._Hash, count: int) -> None:
    zeros = memoryview(bytes(MiB))
    while count > 0:
        digest.update(zeros[: min(count, MiB)])
        count -= MiB


def _head(path: Path, count: int) -> bytes:
    with path.open("rb") as stream:
        return stream.read(count)


def _allocated(path: Path) -> int:
    return path.stat().st_blocks * 512


def _leftovers(pool: FileBackend) -> list[Path]:
    return sorted(pool.volume_path("x").parent.rglob(".tmp-*"))


def test_volume_and_snapshot_paths_follow_cinder_naming(pool: FileBackend) -> None:
    assert pool.volume_path("abc").name == "volume-abc"
    assert pool.snapshot_path("abc").parent.name == ".snapshots"
    assert pool.snapshot_path("abc").name == "snapshot-abc"
    with pytest.raises(StorageError, match="invalid storage object id"):
        pool.volume_path("../etc/passwd")


def test_default_format_is_what_the_pool_was_given(tmp_path: Path) -> None:
    assert FileBackend(tmp_path / "a", 1).default_format is DiskFormat.RAW
    assert FileBackend(tmp_path / "b", 1, DiskFormat.QCOW2).default_format is DiskFormat.QCOW2


def test_resize_keeps_bytes_and_stays_sparse(pool: FileBackend) -> None:
    pool.create("v1", 1, DiskFormat.RAW)
    path = pool.volume_path("v1")
    _write_pattern(path, ORIGINAL)
    before = _sha256(path)

    pool.resize("v1", 2)

    assert path.stat().st_size == 2 * GiB
    assert _sha256(path) == before
    assert _allocated(path) < 16 * MiB


def test_snapshot_keeps_the_bytes_of_its_moment(pool: FileBackend) -> None:
    pool.create("v1", 1, DiskFormat.RAW)
    volume = pool.volume_path("v1")
    _write_pattern(volume, ORIGINAL)
    original = _sha256(volume)

    pool.snapshot("v1", "s1")
    _write_pattern(volume, OVERWRITE)
    pool.create("v2", 1, DiskFormat.RAW, SnapshotSource("s1"))

    restored = pool.volume_path("v2")
    assert _sha256(volume) != original
    assert _sha256(restored) == original
    assert _allocated(pool.snapshot_path("s1")) < 16 * MiB
    assert _allocated(restored) < 16 * MiB


def test_revert_brings_back_the_snapshots_bytes_in_place(pool: FileBackend) -> None:
    pool.create("v1", 1, DiskFormat.RAW)
    volume = pool.volume_path("v1")
    _write_pattern(volume, ORIGINAL)
    original = _sha256(volume)
    pool.snapshot("v1", "s1")
    _write_pattern(volume, OVERWRITE)

    pool.revert("v1", "s1")
    pool.revert("v1", "s1")  # a repeat after a crash changes nothing

    assert _sha256(volume) == original
    assert volume.stat().st_size == GiB and _allocated(volume) < 16 * MiB
    assert _leftovers(pool) == []


def test_qcow2_round_trip_through_convert(pool: FileBackend) -> None:
    pool.create("raw", 1, DiskFormat.RAW)
    _write_pattern(pool.volume_path("raw"), ORIGINAL)

    pool.create("q", 1, DiskFormat.QCOW2, VolumeSource("raw"))
    pool.create("back", 1, DiskFormat.RAW, VolumeSource("q"))

    info = pool.inspect("q")
    assert (info.format, info.virtual_size) == ("qcow2", GiB)
    assert info.actual_size < 16 * MiB
    assert _head(pool.volume_path("q"), 4) == b"QFI\xfb"
    assert _sha256(pool.volume_path("back")) == _sha256(pool.volume_path("raw"))


def test_raw_volume_holding_a_qcow2_header_stays_raw(pool: FileBackend) -> None:
    pool.create("q", 1, DiskFormat.QCOW2)
    pool.create("v1", 1, DiskFormat.RAW)
    # What a guest could write to its own disk to try to be read as qcow2.
    header = _head(pool.volume_path("q"), 4096)
    with pool.volume_path("v1").open("r+b") as stream:
        stream.write(header)

    pool.snapshot("v1", "s1")

    info = pool.inspect("v1")
    assert (info.format, info.virtual_size) == ("raw", GiB)
    assert pool.volume_format("v1") is DiskFormat.RAW
    assert _head(pool.snapshot_path("s1"), 4096) == header


def test_a_job_attempt_stages_under_its_epoch_and_clears_only_earlier_attempts(pool: FileBackend) -> None:
    final = pool.volume_path("v1")
    earlier, later = final.with_name(".tmp-volume-v1.e1"), final.with_name(".tmp-volume-v1.e3")
    other = final.with_name(".tmp-volume-v10.e1")  # another volume's
    for path in (earlier, later, other):
        path.write_bytes(b"half-written")
    staged: list[str] = []
    with fencing.holding("job-1", 2):
        with pool._staging(final, DiskFormat.RAW) as tmp:
            staged.append(tmp.name)
            tmp.write_bytes(b"mine")
    assert staged == [".tmp-volume-v1.e2"]
    assert final.read_bytes() == b"mine"
    assert not earlier.exists() and later.exists() and other.exists()


def test_create_after_a_crash_replaces_the_stale_temp_file(pool: FileBackend) -> None:
    stale = pool.volume_path("v1").with_name(".tmp-volume-v1")
    stale.write_bytes(b"half-written garbage")

    pool.create("v1", 1, DiskFormat.RAW)

    assert pool.inspect("v1").virtual_size == GiB
    assert _leftovers(pool) == []


def test_failed_copy_leaves_neither_volume_nor_temp_file(pool: FileBackend) -> None:
    pool.create("q", 1, DiskFormat.QCOW2)
    broken = pool.volume_path("q")
    broken.write_bytes(broken.read_bytes()[:64])

    with pytest.raises(StorageError, match=r"^qemu-img convert failed: ") as caught:
        pool.create("v2", 1, DiskFormat.RAW, VolumeSource("q"))

    assert not pool.volume_path("v2").exists()
    assert _leftovers(pool) == []
    assert str(pool.volume_path("q").parent) not in caught.value.message


def test_inspect_of_missing_volume_fails_readably(pool: FileBackend) -> None:
    with pytest.raises(StorageError, match=r"^volume nope does not exist$"):
        pool.inspect("nope")


def test_qemu_img_failure_carries_the_details(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"not an image")

    with pytest.raises(StorageError) as caught:
        _qemu_img.info(junk, DiskFormat.QCOW2)

    error = caught.value
    assert error.message.startswith("qemu-img info failed: ")
    assert str(tmp_path) not in error.message
    assert error.command[:2] == ("qemu-img", "info")
    assert error.returncode not in (None, 0)
    assert "qcow2" in error.stderr


def test_missing_qemu_img_becomes_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(StorageError, match=r"^qemu-img create failed: cannot run qemu-img"):
        _qemu_img.create(tmp_path / "img", DiskFormat.RAW, GiB)


def test_free_space_never_exceeds_the_file_system(tmp_path: Path) -> None:
    huge = FileBackend(tmp_path / "pool", capacity_gb=10**9)
    fs = os.statvfs(tmp_path)

    assert huge.capacity().free_bytes <= fs.f_bavail * fs.f_frsize


@pytest.mark.parametrize(
    ("volume_format", "fmt"),
    [(DiskFormat.RAW, f) for f in ("raw", "qcow2", "vmdk", "vdi", "vpc", "vhdx", "parallels")]
    + [(DiskFormat.QCOW2, "raw")],
)
def test_an_export_imports_back_to_the_same_bytes(
    pool: FileBackend, tmp_path: Path, volume_format: DiskFormat, fmt: str
) -> None:
    pool.create("v1", 1, volume_format)
    seed = tmp_path / "seed.raw"
    with seed.open("wb") as stream:
        stream.truncate(GiB)
    _write_pattern(seed, ORIGINAL)
    _qemu_img.convert(seed, "raw", pool.volume_path("v1"), volume_format)  # the guest wrote the pattern
    image = tmp_path / f"image.{fmt}"

    pool.export("v1", image, fmt)
    virtual_size = _qemu_img.standalone_virtual_size(image, fmt)
    pool.create("v2", 1, DiskFormat.RAW, ImageSource(image, fmt, virtual_size))

    assert virtual_size == GiB
    assert _sha256(pool.volume_path("v2")) == _sha256(seed)


def test_a_raw_export_is_as_sparse_as_the_volume(pool: FileBackend, tmp_path: Path) -> None:
    pool.create("v1", 1, DiskFormat.RAW)
    _write_pattern(pool.volume_path("v1"), ORIGINAL)
    image = tmp_path / "image.raw"

    pool.export("v1", image, "raw")

    assert image.stat().st_size == GiB and image.stat().st_blocks * 512 < 4 * MiB


def test_an_image_naming_a_backing_file_is_not_copied(pool: FileBackend, tmp_path: Path) -> None:
    pool.create("victim", 1, DiskFormat.RAW)
    image = tmp_path / "image.qcow2"
    _qemu_img.create(image, DiskFormat.QCOW2, GiB)
    subprocess.run(
        ["qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "raw", "-b", str(pool.volume_path("victim")), str(image)],
        check=True,
    )

    with pytest.raises(StorageError, match="refers to other files"):
        pool.create("v2", 1, DiskFormat.RAW, ImageSource(image, "qcow2", GiB))
    assert not pool.volume_path("v2").exists()

"""FileBackend adopting files it did not write: what is safe, what is refused, and that a refusal changes nothing."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.errors import StorageError
from firebrick.storage import DiskFormat, FileBackend, GiB

MiB = 1024**2
PATTERN = hashlib.sha256(b"operator's data").digest() * 128


@pytest.fixture
def pool(tmp_path: Path) -> FileBackend:
    return FileBackend(tmp_path / "pool", capacity_gb=10)


def _dir(pool: FileBackend) -> Path:
    return pool.volume_path("x").parent


def _raw(path: Path, size: int) -> None:
    with path.open("wb") as stream:
        stream.truncate(size)
        stream.write(PATTERN)


def _qcow2(path: Path, size: int, *options: str) -> None:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *options, str(path), str(size)], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", str(path)], check=True, capture_output=True)


def _snapshot_of(directory: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry of the pool (bookkeeping included) with its size, inode and content digest."""
    result = {}
    for path in sorted(directory.rglob("*")):
        info = os.lstat(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        result[str(path.relative_to(directory))] = (info.st_size, info.st_ino, digest)
    return result


def test_a_raw_file_is_adopted_under_the_volume_name_and_grown_to_whole_gib(pool: FileBackend) -> None:
    source = _dir(pool) / "legacy.img"
    _raw(source, 1536 * MiB)
    digest = hashlib.sha256(source.read_bytes()[: 4 * MiB]).hexdigest()

    found = pool.describe("legacy.img")
    assert (found.size_gb, found.format, found.refusal, found.volume_id) == (2, "raw", None, None)
    pool.adopt("legacy.img", "v1", found.size_gb)

    adopted = pool.volume_path("v1")
    assert not source.exists()
    assert adopted.stat().st_size == 2 * GiB
    assert hashlib.sha256(adopted.read_bytes()[: 4 * MiB]).hexdigest() == digest
    assert pool.volume_format("v1") is DiskFormat.RAW
    pool.adopt("legacy.img", "v1", 2)  # a repeat (after a crash) is a no-op
    assert adopted.stat().st_size == 2 * GiB


def test_a_qcow2_file_is_adopted_as_qcow2_and_keeps_its_data(pool: FileBackend) -> None:
    source = _dir(pool) / "disk.qcow2"
    _qcow2(source, 1 * GiB + 1)

    found = pool.describe("disk.qcow2")
    assert (found.size_gb, found.format) == (2, "qcow2")
    pool.adopt("disk.qcow2", "v2", found.size_gb)

    assert pool.volume_format("v2") is DiskFormat.QCOW2
    assert pool.inspect("v2").virtual_size == 2 * GiB
    check = ["qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 64k", str(pool.volume_path("v2"))]
    assert "read 65536/65536" in subprocess.run(check, check=True, capture_output=True, text=True).stdout


def test_an_unmanaged_volume_keeps_its_recorded_format(pool: FileBackend) -> None:
    # A raw volume whose guest wrote a qcow2 header is still raw: its record says so.
    pool.create("old", 1, DiskFormat.RAW)
    with pool.volume_path("old").open("r+b") as stream:
        stream.write(b"QFI\xfb" + b"\x00" * 60)

    found = pool.describe("volume-old")
    assert (found.format, found.volume_id, found.refusal) == ("raw", "old", None)
    pool.adopt("volume-old", "new", 1)
    assert pool.volume_format("new") is DiskFormat.RAW
    assert not (_dir(pool) / ".formats" / "volume-old").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside", "..", ".", ".formats", ".tmp-volume-x", "a/b", ""])
def test_names_that_are_not_plain_files_of_the_pool_are_refused(pool: FileBackend, name: str) -> None:
    with pytest.raises(StorageError, match="not the name of a file in the pool"):
        pool.describe(name)


def test_a_missing_file_is_refused(pool: FileBackend) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        pool.describe("nothing-here")


def _symlink_outside(directory: Path, tmp_path: Path) -> str:
    outside = tmp_path / "secret"
    outside.write_bytes(b"host secret" * 1000)
    (directory / "link-out").symlink_to(outside)
    return "link-out"


def _symlink_inside(directory: Path, tmp_path: Path) -> str:
    _raw(directory / "real.img", GiB)
    (directory / "link-in").symlink_to(directory / "real.img")
    return "link-in"


def _hard_link(directory: Path, tmp_path: Path) -> str:
    _raw(directory / "first.img", GiB)
    os.link(directory / "first.img", directory / "second.img")
    return "second.img"


def _fifo(directory: Path, tmp_path: Path) -> str:
    os.mkfifo(directory / "pipe")
    return "pipe"


def _socket(directory: Path, tmp_path: Path) -> str:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(directory / "sock"))
    listener.close()
    return "sock"


def _device(directory: Path, tmp_path: Path) -> str:
    (directory / "null").symlink_to("/dev/null")  # mknod needs privileges tests may lack; the check is lstat's
    return "null"


def _directory(directory: Path, tmp_path: Path) -> str:
    (directory / "subdir").mkdir()
    return "subdir"


def _backing_file(directory: Path, tmp_path: Path) -> str:
    base = tmp_path / "base.raw"
    _raw(base, GiB)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "raw", str(directory / "overlay.qcow2")],
        check=True,
    )
    return "overlay.qcow2"


def _data_file(directory: Path, tmp_path: Path) -> str:
    data = tmp_path / "data.raw"
    _qcow2(directory / "external.qcow2", GiB, "-o", f"data_file={data}")
    return "external.qcow2"


def _vmdk(directory: Path, tmp_path: Path) -> str:
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(directory / "disk.vmdk"), "1G"], check=True)
    return "disk.vmdk"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_symlink_outside, "is a symbolic link"),
        (_symlink_inside, "is a symbolic link"),
        (_device, "is a symbolic link"),
        (_hard_link, "other name"),
        (_fifo, "is not a regular file"),
        (_socket, "is not a regular file"),
        (_directory, "is not a regular file"),
        (_backing_file, "names another file"),
        (_data_file, "names another file"),
        (_vmdk, "is a vmdk image"),
    ],
)
def test_unsafe_files_are_refused_and_nothing_on_disk_changes(
    pool: FileBackend, tmp_path: Path, make: object, reason: str
) -> None:
    directory = _dir(pool)
    name = make(directory, tmp_path)  # type: ignore[operator]
    before = _snapshot_of(directory)

    found = pool.describe(name)
    assert found.refusal is not None and reason in found.refusal
    with pytest.raises(StorageError, match=reason):
        pool.adopt(name, "v", 5)

    assert _snapshot_of(directory) == before
    assert not pool.volume_path("v").exists()
    listed = {o.name: o.refusal for o in pool.pool_objects()}
    assert listed[name] is not None and reason in listed[name]


@pytest.fixture
def held_open(pool: FileBackend) -> Iterator[str]:
    """A raw file that a QEMU guest (started paused: no kernel needed) has as its disk."""
    path = _dir(pool) / "busy.img"
    _raw(path, GiB)
    drive = f"file={path},format=raw,if=virtio"
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-M", "q35", "-S", "-nodefaults", "-display", "none", "-drive", drive],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not _opened_by(qemu.pid, path):  # the lock is taken when the drive is opened
            assert qemu.poll() is None and time.monotonic() < deadline, "QEMU did not open the disk"
            time.sleep(0.05)
        time.sleep(0.2)
        yield path.name
    finally:
        qemu.kill()
        qemu.wait()


def _opened_by(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def test_a_file_in_use_by_a_running_qemu_is_refused(pool: FileBackend, held_open: str) -> None:
    found = pool.describe(held_open)
    assert found.refusal == "is in use by a running guest"
    assert found.size_gb == 1
    with pytest.raises(StorageError, match="in use"):
        pool.adopt(held_open, "v", 1)
    assert (_dir(pool) / held_open).is_file()


def test_the_pool_lists_every_visible_file_volumes_included(pool: FileBackend) -> None:
    pool.create("vol", 1, DiskFormat.QCOW2)
    _raw(_dir(pool) / "b.img", 3 * GiB)
    pool.snapshot("vol", "snap")  # snapshots and bookkeeping are not listed

    listed = pool.pool_objects()
    assert [(o.name, o.size_gb, o.format, o.volume_id) for o in listed] == [
        ("b.img", 3, "raw", None),
        ("volume-vol", 1, "qcow2", "vol"),
    ]
    assert listed[0].allocated_bytes > 0


def test_an_adopt_that_cannot_grow_the_file_gives_it_back(tmp_path: Path) -> None:
    small = FileBackend(tmp_path / "pool", capacity_gb=2)
    source = _dir(small) / "big.img"
    _raw(source, GiB)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    with pytest.raises(StorageError, match="insufficient free space"):
        small.adopt("big.img", "v", 8)

    assert source.is_file() and hashlib.sha256(source.read_bytes()).hexdigest() == digest
    assert not small.volume_path("v").exists()
    assert not (_dir(small) / ".formats" / "volume-v").exists()
    assert not (_dir(small) / ".formats" / "big.img").exists()

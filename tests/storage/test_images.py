"""ImageStore: image data written whole or not at all, digested on the way or in one sparse pass."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.errors import StorageError
from firebrick.storage import ImageStore

MiB = 1024**2


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images")


def _digests(data: bytes) -> tuple[int, str, str]:
    return len(data), hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()


def test_receive_writes_the_chunks_and_digests_them(store: ImageStore) -> None:
    chunks = [os.urandom(3 * MiB + 1), b"", os.urandom(10)]
    data = store.receive("i1", iter(chunks))
    whole = b"".join(chunks)
    assert (data.size, data.checksum, data.hash_value) == _digests(whole)
    assert data.hash_algo == "sha512"
    assert store.path("i1").read_bytes() == whole
    assert b"".join(store.read("i1", chunk_size=MiB)) == whole


def test_a_failing_source_leaves_nothing_and_its_error_passes_through(store: ImageStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"abc"
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        store.receive("i1", chunks())
    assert not store.path("i1").exists()
    assert list(store.path("i1").parent.iterdir()) == []


def test_fill_digests_a_sparse_file_as_if_its_holes_were_read(store: ImageStore) -> None:
    def write(path: Path) -> None:
        with path.open("wb") as out:
            out.truncate(9 * MiB + 123)  # a hole at the start, between the runs and at the end
            for offset in (2 * MiB + 7, 5 * MiB):
                out.seek(offset)
                out.write(bytes(range(256)) * 4096)

    data = store.fill("i1", write)
    assert (data.size, data.checksum, data.hash_value) == _digests(store.path("i1").read_bytes())


def test_fill_replaces_earlier_data_whole(store: ImageStore) -> None:
    store.fill("i1", lambda path: path.write_bytes(b"first"))
    data = store.fill("i1", lambda path: path.write_bytes(b"second"))
    assert store.path("i1").read_bytes() == b"second" and data.size == 6


def test_a_failed_fill_keeps_no_partial_file(store: ImageStore) -> None:
    def write(path: Path) -> None:
        path.write_bytes(b"half")
        raise StorageError("qemu-img convert failed")

    with pytest.raises(StorageError):
        store.fill("i1", write)
    assert list(store.path("i1").parent.iterdir()) == []


def test_reading_data_that_is_not_there_fails_at_once(store: ImageStore) -> None:
    with pytest.raises(StorageError, match="image i1 has no data"):
        store.read("i1")


def test_delete_and_discard_partial(store: ImageStore) -> None:
    store.receive("i1", [b"x"])
    partial = store.path("i1").with_name(".tmp-image-i1")
    partial.write_bytes(b"y")
    store.discard_partial("i1")
    assert store.path("i1").exists() and not partial.exists()
    store.delete("i1")
    store.delete("i1")
    assert not store.path("i1").exists()


def test_virtual_size_reads_the_format_it_is_told(store: ImageStore) -> None:
    store.receive("i1", [b"\0" * 4096])
    assert store.virtual_size("i1", "raw") == 4096
    assert store.virtual_size("i1", "qcow2") is None  # not a qcow2: unknown, not an error


@pytest.mark.parametrize("bad", ["../x", "", "a/b"])
def test_ids_cannot_leave_the_directory(store: ImageStore, bad: str) -> None:
    with pytest.raises(StorageError, match="invalid image id"):
        store.path(bad)

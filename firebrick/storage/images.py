"""Image files: the bytes behind the Image v2 service, one file per image.

Layout::

    <images>/image-<image_id>        an image's data, always whole
    <images>/.tmp-image-<image_id>   data still arriving (an upload or an export)

Data is written under the temporary name, flushed to disk and renamed into
place, so a file under an image's name is complete; an upload or export that
died half-way leaves at most a temporary file, which the next attempt replaces.

Glance's two digests, md5 (``checksum``) and sha512 (``os_hash_value``), are
computed as the data arrives. For a file another program wrote (qemu-img,
exporting a volume) they are computed in one sparse-aware pass: holes are
hashed as zeros without being read. In both cases sha512 runs on a helper
thread beside md5 (hashlib releases the GIL on large buffers), so a pass costs
the slower digest rather than the sum of both.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from firebrick.errors import StorageError
from firebrick.storage import _qemu_img

__all__ = ["HASH_ALGORITHM", "ImageData", "ImageStore"]

HASH_ALGORITHM = "sha512"  # Glance's default ``hashing_algorithm``
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_BLOCK = 1 << 20
_ZEROS = bytes(_BLOCK)


@dataclass(frozen=True, slots=True)
class ImageData:
    """What is known of stored image data: its length and digests (hex)."""

    size: int
    checksum: str
    hash_value: str
    hash_algo: str = HASH_ALGORITHM


class ImageStore:
    """Image data as files in one directory; see the module docstring."""

    def __init__(self, directory: Path) -> None:
        """Keep images in ``directory`` (created if missing)."""
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)

    def path(self, image_id: str) -> Path:
        """Return the file that holds (or will hold) an image's data.

        Raises:
            StorageError: when the id is not a plain name (it could leave the directory).
        """
        if not _ID.fullmatch(image_id):
            raise StorageError(f"invalid image id {image_id!r}")
        return self._dir / f"image-{image_id}"

    def receive(self, image_id: str, chunks: Iterable[bytes]) -> ImageData:
        """Write an image's data from ``chunks`` (an upload), digesting it on the way.

        Whatever ``chunks`` raises (a client that went away, say) propagates as it
        is, and nothing is left under the image's name.

        Raises:
            StorageError: when the file cannot be written.
        """
        with self._staging(image_id) as tmp, _Digests() as digests:
            with _file_errors():
                out = tmp.open("wb")
            with out:
                for chunk in chunks:
                    with _file_errors():
                        out.write(chunk)
                    digests.update(chunk)
                with _file_errors():
                    out.flush()
                    os.fsync(out.fileno())
            return digests.result()

    def fill(self, image_id: str, write: Callable[[Path], None]) -> ImageData:
        """Have ``write`` make an image's data at the path it is given, then digest it.

        Repeating a fill replaces the data whole.

        Raises:
            StorageError: when ``write`` raises it, or the file cannot be read or flushed.
        """
        with self._staging(image_id) as tmp:
            write(tmp)
            with _file_errors():
                return _digest_file(tmp)

    def read(self, image_id: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """The image's data, in chunks; the file is opened now, so a missing one fails here.

        Raises:
            StorageError: when the image has no data file.
        """
        try:
            stream = self.path(image_id).open("rb")
        except OSError as exc:
            raise StorageError(f"image {image_id} has no data") from exc
        return _chunks(stream, chunk_size)

    def virtual_size(self, image_id: str, fmt: str) -> int | None:
        """The size a disk made from the image has, or None when qemu-img cannot tell
        (data that is not of ``fmt``, or an image that refers to other files)."""
        path = self.path(image_id)
        try:
            return path.stat().st_size if fmt == "raw" else _qemu_img.standalone_virtual_size(path, fmt)
        except (OSError, StorageError):
            return None

    def delete(self, image_id: str) -> None:
        """Remove an image's data; a missing file is not an error.

        Data still arriving is left to its writer, which finds the image gone when it
        tries to record it (and removes what it wrote then).
        """
        with _file_errors():
            self.path(image_id).unlink(missing_ok=True)

    def discard_partial(self, image_id: str) -> None:
        """Remove data an interrupted upload or export left; the image's own file stays."""
        with _file_errors():
            _tmp(self.path(image_id)).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _staging(self, image_id: str) -> Iterator[Path]:
        final = self.path(image_id)
        tmp = _tmp(final)
        with _file_errors():
            tmp.unlink(missing_ok=True)
        try:
            yield tmp
            with _file_errors():
                os.replace(tmp, final)
                _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _file_errors() -> Iterator[None]:
    """Turn an ``OSError`` of the file system into a ``StorageError`` without host paths."""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"image file operation failed: {exc.strerror}") from exc


class _Digests:
    """md5 and sha512 of one stream; sha512 runs on a helper thread beside md5.

    Chunks must not change after ``update`` (bytes never do).
    """

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha = hashlib.new(HASH_ALGORITHM)
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="firebrick-digest")
        self._pending: Future[None] | None = None
        self._size = 0

    def __enter__(self) -> _Digests:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._helper.shutdown(wait=True)

    def update(self, chunk: bytes | memoryview) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._helper.submit(self._sha.update, chunk)
        self._md5.update(chunk)
        self._size += len(chunk)

    def result(self) -> ImageData:
        if self._pending is not None:
            self._pending.result()
        return ImageData(size=self._size, checksum=self._md5.hexdigest(), hash_value=self._sha.hexdigest())


def _digest_file(path: Path) -> ImageData:
    """Digest a file in one pass, hashing holes as zeros without reading them, and flush it."""
    with path.open("rb") as stream, _Digests() as digests:
        fd = stream.fileno()
        size = os.fstat(fd).st_size
        offset = 0
        while offset < size:
            data = _seek(fd, offset, os.SEEK_DATA, size)
            _feed_zeros(digests, data - offset)
            end = _seek(fd, data, os.SEEK_HOLE, size) if data < size else size
            while data < end:
                block = os.pread(fd, min(_BLOCK, end - data), data)
                if not block:
                    raise StorageError(f"{path.name} shrank while it was read")
                digests.update(block)
                data += len(block)
            offset = end
        os.fsync(fd)
        return digests.result()


def _seek(fd: int, offset: int, whence: int, size: int) -> int:
    try:
        return min(os.lseek(fd, offset, whence), size)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # no data (or hole) after offset: the rest is a hole
            return size
        raise


def _feed_zeros(digests: _Digests, length: int) -> None:
    while length > 0:
        step = min(length, _BLOCK)
        digests.update(_ZEROS if step == _BLOCK else _ZEROS[:step])
        length -= step


def _chunks(stream: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(chunk_size):
            yield chunk


def _tmp(final: Path) -> Path:
    return final.with_name(f".tmp-{final.name}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

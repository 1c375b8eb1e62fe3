"""The qemu-img adapter: the only code in firebrick that runs storage commands.

Every call names the image format explicitly (``-f``), so qemu-img never
guesses a format from bytes a guest may have written. Failures, including a
missing binary, surface as ``StorageError`` with a short message a user may
read; the full command, exit status and stderr stay on the exception for logs.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from pathlib import Path
from typing import Any

from firebrick.errors import ImageInUse, StorageError
from firebrick.storage.base import DiskFormat, ObjectInfo

__all__ = ["check_qcow2_header", "check_unused", "convert", "create", "info", "resize", "standalone_virtual_size"]

_BINARY = "qemu-img"
_IO_BINARY = "qemu-io"
# ``qemu-img check`` exits 3 when the image only leaks clusters: wasted space, no harm to its data.
_CHECK_LEAKS_ONLY = 3
# What qemu-img says when a running QEMU holds the image (a plain open asks for a shared lock).
_LOCKED = re.compile(r'Failed to get (shared )?"write" lock')


def create(path: Path, fmt: DiskFormat, size_bytes: int) -> None:
    """Create an empty image of ``size_bytes`` (a raw one is fully sparse).

    Raises:
        StorageError: when qemu-img fails or cannot be run.
    """
    _run("create", "-q", "-f", fmt.value, str(path), str(size_bytes))


def convert(
    src: Path, src_fmt: str, dst: Path, dst_fmt: str, options: tuple[str, ...] = (), shared: bool = False
) -> None:
    """Copy ``src`` into a new image ``dst``, skipping zeroed runs so holes stay holes.

    The formats are qemu-img's names (a ``DiskFormat`` is one); ``options`` are the
    target format's creation options (``-o``). With ``shared`` the source may be open
    in a running guest (``-U``: QEMU's lock is shared): the copy is crash-consistent.

    Raises:
        StorageError: when qemu-img fails or cannot be run.
    """
    extra = ("-o", ",".join(options)) if options else ()
    share = ("-U",) if shared else ()
    _run("convert", "-q", *share, "-f", str(src_fmt), "-O", str(dst_fmt), *extra, str(src), str(dst))


def resize(path: Path, fmt: DiskFormat, size_bytes: int) -> None:
    """Set the virtual size of an image; callers must never ask it to shrink.

    Raises:
        StorageError: when qemu-img fails or cannot be run.
    """
    _run("resize", "-q", "-f", fmt.value, str(path), str(size_bytes))


def info(path: Path, fmt: DiskFormat) -> ObjectInfo:
    """Describe an image, even one a running guest holds open (``--force-share``).

    Raises:
        StorageError: when qemu-img fails, cannot be run, or prints unreadable JSON.
    """
    out = _run("info", "--output=json", "--force-share", "-f", fmt.value, str(path))
    try:
        data = json.loads(out)
        return ObjectInfo(
            format=str(data["format"]),
            virtual_size=int(data["virtual-size"]),
            actual_size=int(data.get("actual-size", 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError("qemu-img info failed: unreadable output", command=(_BINARY, "info"), stderr=out) from exc


def check_unused(path: Path, fmt: DiskFormat) -> None:
    """Make sure no running QEMU has the image open for writing.

    QEMU's image locks turn away an opener that will not share writing, and
    ``qemu-img info`` shares it, so it cannot tell. ``qemu-img check`` does not
    share it and only reads; raw images have no check, so ``qemu-io`` opens a raw
    one read-write and quits at once, which writes nothing.

    Raises:
        ImageInUse: when a running QEMU holds the image.
        StorageError: when the image cannot be opened as ``fmt``, or a qcow2 one is corrupt.
    """
    if fmt is DiskFormat.RAW:
        _run("open", "-f", fmt.value, "-c", "quit", str(path), binary=_IO_BINARY)
        return
    try:
        _run("check", "-q", "-f", fmt.value, str(path))
    except ImageInUse:
        raise
    except StorageError as error:
        if error.returncode != _CHECK_LEAKS_ONLY:
            raise


def standalone_virtual_size(path: Path, fmt: str) -> int:
    """The virtual size of an image file that reads no other file, in bytes.

    An image uploaded by a user is untrusted: a qcow2 naming a backing file or an
    external data file, or a vmdk whose extents live elsewhere, would have the copy
    read some other file on this host into a volume. Such images are refused. The
    qcow2 header is checked before qemu-img opens the file at all.

    Raises:
        StorageError: when the image refers to another file, or qemu-img cannot read
            it as ``fmt``.
    """
    if fmt == "qcow2":
        check_qcow2_header(path)
    out = _run("info", "--output=json", "-f", fmt, str(path))
    try:
        data = json.loads(out)
        size = int(data["virtual-size"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError("qemu-img info failed: unreadable output", command=(_BINARY, "info"), stderr=out) from exc
    if _foreign_files(data, path):
        raise StorageError(f"image {path.name} refers to other files; it cannot be copied into a volume")
    return size


# qcow2 header: backing_file_offset (u64 at 8), version (u32 at 4), incompatible_features (u64 at 72, v3).
_QCOW2_HEADER = struct.Struct(">4sIQ")
_QCOW2_INCOMPATIBLE = struct.Struct(">Q")
_QCOW2_EXTERNAL_DATA_FILE = 1 << 2


def check_qcow2_header(path: Path) -> None:
    """Refuse a qcow2 image that names a backing file or an external data file, reading
    only its header (so qemu-img never opens what it names).

    Raises:
        StorageError: when the file is not qcow2, or names another file.
    """
    try:
        with path.open("rb") as stream:
            header = stream.read(80)
    except OSError as exc:
        raise StorageError(f"cannot read image {path.name}: {exc.strerror}") from exc
    if len(header) < _QCOW2_HEADER.size:
        raise StorageError(f"image {path.name} is not a qcow2 image")
    magic, version, backing_offset = _QCOW2_HEADER.unpack_from(header)
    external = version >= 3 and len(header) >= 80 and (
        _QCOW2_INCOMPATIBLE.unpack_from(header, 72)[0] & _QCOW2_EXTERNAL_DATA_FILE
    )
    if magic != b"QFI\xfb":
        raise StorageError(f"image {path.name} is not a qcow2 image")
    if backing_offset or external:
        raise StorageError(f"image {path.name} refers to other files; it cannot be copied into a volume")


def _foreign_files(info: dict[str, Any], path: Path) -> bool:
    """Whether ``qemu-img info`` shows the image reading any file but itself."""
    if info.get("backing-filename") or info.get("full-backing-filename"):
        return True
    specific = (info.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        return True
    extents = specific.get("extents") or []
    return any(not _is_itself(str(extent.get("filename", "")), path) for extent in extents)


def _is_itself(name: str, path: Path) -> bool:
    # qemu-img names an extent as the descriptor does, relative to the descriptor's directory.
    candidate = Path(name) if os.path.isabs(name) else path.parent / name
    return candidate.resolve() == path.resolve()


def _run(action: str, *args: str, binary: str = _BINARY) -> str:
    """Run ``qemu-img <action> <args>`` (or, with ``binary``, ``<binary> <args>``) and return its stdout."""
    command = (binary, *args) if binary != _BINARY else (binary, action, *args)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        message = f"{binary} {action} failed: cannot run {binary} ({exc.strerror})"
        raise StorageError(message, command=command) from exc
    if result.returncode != 0:
        # QEMU locks the images a guest has open; qemu-img and qemu-io say so in these words.
        output = result.stderr or result.stdout
        error = ImageInUse if _LOCKED.search(output) else StorageError
        raise error(
            f"{binary} {action} failed: {_detail(output, args, binary)}",
            command=command,
            returncode=result.returncode,
            stderr=output,
        )
    return result.stdout


def _detail(stderr: str, args: tuple[str, ...], binary: str) -> str:
    """Reduce stderr to its last line, with host paths cut down to file names."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    detail = lines[-1].removeprefix(f"{binary}: ") if lines else "no error output"
    for arg in args:
        if os.path.isabs(arg):
            # Where the pool lives is a host detail; users know objects by name.
            detail = detail.replace(arg, os.path.basename(arg))
    return detail

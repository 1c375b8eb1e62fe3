"""The qemu-img adapter: the only code in firebrick that runs storage commands.

Every call names the image format explicitly (``-f``), so qemu-img never
guesses a format from bytes a guest may have written. Failures, including a
missing binary, surface as ``StorageError`` with a short message a user may
read; the full command, exit status and stderr stay on the exception for logs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from firebrick.errors import StorageError
from firebrick.storage.base import DiskFormat, ObjectInfo

__all__ = ["convert", "create", "info", "resize"]

_BINARY = "qemu-img"


def create(path: Path, fmt: DiskFormat, size_bytes: int) -> None:
    """Create an empty image of ``size_bytes`` (a raw one is fully sparse).

    Raises:
        StorageError: when qemu-img fails or cannot be run.
    """
    _run("create", "-q", "-f", fmt.value, str(path), str(size_bytes))


def convert(src: Path, src_fmt: DiskFormat, dst: Path, dst_fmt: DiskFormat) -> None:
    """Copy ``src`` into a new image ``dst``, skipping zeroed runs so holes stay holes.

    Raises:
        StorageError: when qemu-img fails or cannot be run.
    """
    _run("convert", "-q", "-f", src_fmt.value, "-O", dst_fmt.value, str(src), str(dst))


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


def _run(action: str, *args: str) -> str:
    """Run ``qemu-img <action> <args>`` and return its stdout."""
    command = (_BINARY, action, *args)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        message = f"qemu-img {action} failed: cannot run qemu-img ({exc.strerror})"
        raise StorageError(message, command=command) from exc
    if result.returncode != 0:
        raise StorageError(
            f"qemu-img {action} failed: {_detail(result.stderr, args)}",
            command=command,
            returncode=result.returncode,
            stderr=result.stderr,
        )
    return result.stdout


def _detail(stderr: str, args: tuple[str, ...]) -> str:
    """Reduce stderr to its last line, with host paths cut down to file names."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    detail = lines[-1].removeprefix("qemu-img: ") if lines else "no error output"
    for arg in args:
        if os.path.isabs(arg):
            # Where the pool lives is a host detail; users know objects by name.
            detail = detail.replace(arg, os.path.basename(arg))
    return detail

"""Looking at a file in a pool before manage makes it a volume.

Manage takes a name from a caller and hands the file under it to a guest, to read
and write. So the name must stay inside the pool, and the file must be nothing
but its own bytes:

* the name is a plain file name: no path, no ``..``, nothing hidden (the pool's
  own bookkeeping and half-written files start with a dot);
* the file is a regular file with a single name: not a symbolic link (one leaving
  the pool would hand the guest some other file, one inside it would give two
  volumes one file), not a device node, fifo, socket or directory, and not a
  hard link to a file that has another name;
* it is raw or qcow2, and a qcow2 names no backing file and no external data
  file: either would let the guest read another file of this host;
* no running QEMU has it open (QEMU's image lock says so).

The format is the one firebrick recorded when it wrote the file (an unmanaged
volume keeps its record). A file with no record was put there by an operator:
it is qcow2 if it has qcow2's header and raw otherwise, unless it starts like
another image format, which is refused rather than shown to a guest as raw bytes.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from firebrick.errors import ImageInUse, StorageError
from firebrick.storage import _qemu_img
from firebrick.storage.base import DiskFormat, GiB, PoolObject

__all__ = ["Inspection", "check_name", "inspect"]

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_+=,:@%-][A-Za-z0-9._+=,:@%-]{0,254}")
_VOLUME_NAME = re.compile(r"volume-([A-Za-z0-9][A-Za-z0-9._-]{0,200})")
_QCOW2_MAGIC = b"QFI\xfb"
# Leading bytes of the image formats qemu reads that are neither raw nor qcow2.
_OTHER_FORMATS = (
    (b"KDMV", "vmdk"),
    (b"# Disk DescriptorFile", "vmdk"),
    (b"conectix", "vhd"),
    (b"vhdxfile", "vhdx"),
    (b"QED\x00", "qed"),
    (b"LUKS\xba\xbe", "luks"),
    (b"WithoutFreeSpace", "parallels"),
    (b"WithouFreSpacExt", "parallels"),
)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What was seen: the object as listed, and what adopting it needs.

    ``identity`` (device, inode) tells whether the file under the name is still the
    one that was looked at.
    """

    object: PoolObject
    format: DiskFormat | None
    virtual_size: int
    identity: tuple[int, int]


def check_name(name: str) -> None:
    """Raises StorageError when ``name`` is not a plain, visible file name."""
    if not _PLAIN_NAME.fullmatch(name) or name in (".", ".."):
        raise StorageError(f"{name!r} is not the name of a file in the pool (no paths, no hidden names)")


def inspect(pool: Path, name: str, recorded: DiskFormat | None) -> Inspection:
    """Look at the file ``name`` of ``pool``; any refusal is in the result's ``object.refusal``.

    Raises:
        StorageError: when the name is not a plain file name, or nothing has it.
    """
    check_name(name)
    path = pool / name
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise StorageError(f"{name} does not exist in the pool") from None
    matched = _VOLUME_NAME.fullmatch(name)
    volume_id = matched.group(1) if matched else None
    identity = (info.st_dev, info.st_ino)

    def refused(reason: str, fmt: str | None = None) -> Inspection:
        size_gb = max(-(-info.st_size // GiB), 1)
        listed = PoolObject(name, size_gb, fmt, info.st_blocks * 512, volume_id, reason)
        return Inspection(listed, None, info.st_size, identity)

    not_a_plain_file = _not_a_plain_file(info)
    if not_a_plain_file is not None:
        return refused(not_a_plain_file)
    fmt = recorded or _sniff(path)
    if not isinstance(fmt, DiskFormat):
        return refused(f"is a {fmt} image; only raw and qcow2 files can be managed", fmt)
    if fmt is DiskFormat.QCOW2:
        try:
            _qemu_img.check_qcow2_header(path)
        except StorageError:
            return refused("names another file (a qcow2 backing file or external data file)", fmt.value)
    try:
        _qemu_img.check_unused(path, fmt)
        described = _qemu_img.info(path, fmt)
    except ImageInUse:
        return refused("is in use by a running guest", fmt.value)
    except StorageError as error:
        return refused(f"cannot be read as {fmt.value}: {error}", fmt.value)
    size_gb = max(-(-described.virtual_size // GiB), 1)
    listed = PoolObject(name, size_gb, fmt.value, info.st_blocks * 512, volume_id)
    return Inspection(listed, fmt, described.virtual_size, identity)


def _not_a_plain_file(info: os.stat_result) -> str | None:
    """Why the file is not a plain file of its own, or None when it is."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_nlink > 1:
        return f"has {info.st_nlink - 1} other name(s) (hard links)"
    return None


def _sniff(path: Path) -> DiskFormat | str:
    """The format of a file nobody recorded: qcow2 or raw, or the name of another format."""
    with path.open("rb") as stream:
        head = stream.read(512)
    if head.startswith(_QCOW2_MAGIC):
        return DiskFormat.QCOW2
    if len(head) >= 0x44 and head[0x40:0x44] == b"\x7f\x10\xda\xbe":  # VDI's signature
        return "vdi"
    return next((kind for magic, kind in _OTHER_FORMATS if head.startswith(magic)), DiskFormat.RAW)

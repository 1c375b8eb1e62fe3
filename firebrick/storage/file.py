"""A pool of volumes kept as image files in one directory.

Layout::

    <pool>/volume-<volume_id>                   a volume (Cinder's name for it)
    <pool>/.snapshots/snapshot-<snapshot_id>    a snapshot
    <pool>/.formats/volume-<id>, snapshot-<id>  the disk format of each object
    .tmp-<name>[.e<epoch>] beside any of these  an object still being written (by a job's claim)
    <pool>/<any other visible name>             a file put there by hand, which manage may
                                                adopt as a volume (see ``storage._foreign``)

An empty raw volume is a sparse file made in-process, and a raw volume grows by
``ftruncate`` (what ``qemu-img create -f raw`` and ``qemu-img resize -f raw`` do,
minus a process start); everything else goes through qemu-img. Free space comes
from a ledger of the virtual sizes this backend wrote, rebuilt from the files
every minute, so checking it does not read the whole pool.

Snapshots are full point-in-time copies made with ``qemu-img convert`` (which
skips zeroed runs, so sparse volumes give sparse snapshots), in the volume's
format. They are not qcow2 overlays, because then a snapshot's lifetime is its
own: volume and snapshots can be deleted in any order, reverting is a plain
copy back, and no file carries a backing chain that a guest or a later
qemu-img call could follow. The price is the time and space of a full copy.

Formats are recorded when an object is created and never guessed from its
bytes. The first bytes of a raw volume belong to its guest: a guest that
writes a qcow2 header there, naming some other file as its backing file, would
have its next snapshot read that file if the format were probed. So every
qemu-img call gets ``-f`` with the recorded format.

Every new file is written under its ``.tmp-`` name and renamed into place when
complete, so a file under a real name is always whole, and a create or
snapshot that crashed half-way is simply run again.

Images cross the pool's edge two ways: ``export`` converts a volume into a file
the caller names (the image store's staging file), in any of qemu-img's image
formats; ``create`` with an ``ImageSource`` copies an image file in, read with
the format its record gives and only after qemu-img showed that it reads no
other file (an uploaded image is the user's bytes, header included).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from firebrick import fencing
from firebrick.errors import StorageError
from firebrick.storage import _foreign, _qemu_img
from firebrick.storage.base import (
    IMAGE_FORMATS,
    Capacity,
    DiskFormat,
    GiB,
    ImageSource,
    ObjectInfo,
    PoolCopySource,
    PoolObject,
    SnapshotSource,
    Source,
    StorageBackend,
    VolumeSource,
)

__all__ = ["FileBackend"]

_SNAPSHOTS = ".snapshots"
_FORMATS = ".formats"
_QCOW2_MAGIC = b"QFI\xfb"
# How often the capacity ledger is rebuilt from the files (someone may have added one by hand).
_RESCAN_SECONDS = 60.0
_QCOW2_SIZE = struct.Struct(">Q")
_QCOW2_SIZE_OFFSET = 24
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
# VHD rounds sizes to a disk geometry unless told not to; the exact size lets the image round-trip.
_EXPORT_OPTIONS = {"vpc": ("force_size=on",)}

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _os_errors_as_storage_errors(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn an ``OSError`` from ``func`` into a ``StorageError`` without host paths."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except OSError as exc:
            raise StorageError(f"storage file operation failed: {exc.strerror}") from exc

    return wrapper


class FileBackend(StorageBackend):
    """Volumes and snapshots as raw or qcow2 files; see the module docstring."""

    def __init__(self, pool_dir: Path, capacity_gb: int, default_format: DiskFormat = DiskFormat.RAW) -> None:
        """Use ``pool_dir`` (created if missing) as a pool of ``capacity_gb`` GiB."""
        self._pool = Path(pool_dir)
        self._total = capacity_gb * GiB
        self._default_format = default_format
        self._ledger: dict[str, int] | None = None
        self._ledger_until = 0.0
        self._ledger_lock = threading.Lock()
        for sub in (_SNAPSHOTS, _FORMATS):
            (self._pool / sub).mkdir(parents=True, exist_ok=True)

    @property
    def default_format(self) -> DiskFormat:
        """The format to create volumes in when a request names none."""
        return self._default_format

    def volume_path(self, volume_id: str) -> Path:
        """Return the file that holds (or will hold) volume ``volume_id``.

        Raises:
            StorageError: when the id is not a plain name (it could leave the pool).
        """
        return self._pool / f"volume-{_checked(volume_id)}"

    def snapshot_path(self, snapshot_id: str) -> Path:
        """Return the file that holds (or will hold) snapshot ``snapshot_id``.

        Raises:
            StorageError: when the id is not a plain name (it could leave the pool).
        """
        return self._pool / _SNAPSHOTS / f"snapshot-{_checked(snapshot_id)}"

    @_os_errors_as_storage_errors
    def volume_format(self, volume_id: str) -> DiskFormat:
        """Return the recorded format of an existing volume; never probes its bytes.

        Raises:
            StorageError: when the volume or its format record is missing.
        """
        return self._format_of(self._volume(volume_id))

    @_os_errors_as_storage_errors
    def capacity(self) -> Capacity:
        """Report the pool size and what is left of it.

        Free space is the smaller of the configured size minus the virtual
        sizes of all volumes and snapshots, and the file system's own free space.
        """
        fs = os.statvfs(self._pool)
        free = min(self._total - self._provisioned(), fs.f_bavail * fs.f_frsize)
        return Capacity(total_bytes=self._total, free_bytes=max(free, 0))

    @_os_errors_as_storage_errors
    def create(self, volume_id: str, size_gb: int, fmt: DiskFormat, source: Source | None = None) -> None:
        """Create a volume, empty (sparse) or copied from ``source`` and grown to size.

        Repeating a create that finished is a no-op.

        Raises:
            StorageError: when the source is missing or larger than ``size_gb``, a
                different volume already has this id, the pool lacks space, or
                qemu-img fails.
        """
        target = self.volume_path(volume_id)
        size = size_gb * GiB
        if self._already_created(volume_id, size, fmt):
            return
        copy_in = source if isinstance(source, PoolCopySource) else None  # the other pool writes it
        origin = None if source is None or isinstance(source, PoolCopySource) else self._origin(source)
        source_size = copy_in.virtual_size if copy_in is not None else origin[2] if origin is not None else 0
        if source_size > size:
            raise StorageError(f"volume {volume_id} cannot be smaller than its source")
        self._require_space(size)
        with self._staging(target, fmt) as tmp:
            if copy_in is not None:
                copy_in.write(tmp, fmt.value)
                if _virtual_size(tmp, fmt) < size:
                    _qemu_img.resize(tmp, fmt, size)
            elif origin is None and fmt is DiskFormat.RAW:
                _sparse_file(tmp, size)
            elif origin is None:
                _qemu_img.create(tmp, fmt, size)
            else:
                # A source volume may be attached (Cinder clones in-use volumes): read it shared.
                _qemu_img.convert(origin[0], origin[1], tmp, fmt, shared=True)
                if _virtual_size(tmp, fmt) < size:
                    _qemu_img.resize(tmp, fmt, size)
        self._account(target, size)

    @_os_errors_as_storage_errors
    def delete(self, volume_id: str) -> None:
        """Remove a volume; a missing one is not an error."""
        self._remove(self.volume_path(volume_id))
        self._account(self.volume_path(volume_id), None)

    @_os_errors_as_storage_errors
    def resize(self, volume_id: str, size_gb: int) -> None:
        """Grow a volume in place; growing to its current size is a no-op.

        Raises:
            StorageError: when the volume is missing, ``size_gb`` is smaller than
                its size, the pool lacks space for the growth, or qemu-img fails.
        """
        path = self._volume(volume_id)
        fmt = self._format_of(path)
        current = _virtual_size(path, fmt)
        size = size_gb * GiB
        if size < current:
            raise StorageError(f"volume {volume_id} cannot shrink below its current size of {current / GiB:g} GiB")
        if size == current:
            return
        self._require_space(size - current)
        if fmt is DiskFormat.RAW:
            _grow_raw(path, size)
        else:
            _qemu_img.resize(path, fmt, size)
        self._account(path, size)

    @_os_errors_as_storage_errors
    def snapshot(self, volume_id: str, snapshot_id: str) -> None:
        """Copy a volume, as it is now, to snapshot ``snapshot_id`` in the same format.

        Repeating a snapshot that finished is a no-op: it is not taken again.

        Raises:
            StorageError: when the volume is missing, the pool lacks space, or
                qemu-img fails (as it does on a volume a running guest holds open).
        """
        target = self.snapshot_path(snapshot_id)
        if target.is_file():
            return
        source = self._volume(volume_id)
        fmt = self._format_of(source)
        size = _virtual_size(source, fmt)
        self._require_space(size)
        with self._staging(target, fmt) as tmp:
            # The volume may be attached ("force"): read it shared, a crash-consistent copy.
            _qemu_img.convert(source, fmt, tmp, fmt, shared=True)
        self._account(target, size)

    @_os_errors_as_storage_errors
    def revert(self, volume_id: str, snapshot_id: str) -> None:
        """Copy a snapshot back over its volume (sparse-aware), replacing the file at once.

        The volume keeps its bytes until the copy is whole, so a crash half-way leaves
        it as it was and the revert can simply run again.

        Raises:
            StorageError: when the volume or snapshot is missing, or qemu-img fails.
        """
        source = self.snapshot_path(snapshot_id)
        if not source.is_file():
            raise StorageError(f"snapshot {snapshot_id} does not exist")
        target = self._volume(volume_id)
        fmt = self._format_of(source)
        with self._staging(target, fmt) as tmp:
            _qemu_img.convert(source, fmt, tmp, fmt)
        self._account(target, _virtual_size(target, fmt))

    @_os_errors_as_storage_errors
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Remove a snapshot; a missing one is not an error."""
        self._remove(self.snapshot_path(snapshot_id))
        self._account(self.snapshot_path(snapshot_id), None)

    @_os_errors_as_storage_errors
    def inspect(self, volume_id: str) -> ObjectInfo:
        """Describe a volume as ``qemu-img info`` sees it, read with its recorded format.

        Raises:
            StorageError: when the volume is missing or qemu-img cannot read it.
        """
        path = self._volume(volume_id)
        return _qemu_img.info(path, self._format_of(path))

    @_os_errors_as_storage_errors
    def export(self, volume_id: str, target: Path, fmt: str) -> None:
        """Convert a volume, read with its recorded format, into the file ``target``.

        qemu-img skips zeroed runs, so a sparse volume costs only the data it holds
        (and a raw target is as sparse as the volume).

        Raises:
            StorageError: when the volume is missing, ``fmt`` is unknown, or qemu-img fails.
        """
        if fmt not in IMAGE_FORMATS.values():
            raise StorageError(f"cannot export to unknown image format {fmt!r}")
        source = self._volume(volume_id)
        target.unlink(missing_ok=True)
        _qemu_img.convert(source, self._format_of(source), target, fmt, _EXPORT_OPTIONS.get(fmt, ()))

    @_os_errors_as_storage_errors
    def connection_info(self, volume_id: str) -> dict[str, Any]:
        """os-brick's ``local`` connection: the file itself, and the format to open it with."""
        path = self._volume(volume_id)
        data = {"device_path": str(path), "format": self._format_of(path).value}
        return {"driver_volume_type": "local", "data": data}

    @_os_errors_as_storage_errors
    def pool_objects(self) -> list[PoolObject]:
        """Every visible file of the pool, volumes included, each with any reason it cannot be adopted."""
        found = []
        for name in sorted(entry.name for entry in os.scandir(self._pool) if not entry.name.startswith(".")):
            try:
                found.append(self._inspect(name).object)
            except StorageError as error:  # an odd name, or a file gone while the pool was read
                found.append(PoolObject(name, 0, None, 0, refusal=str(error)))
        return found

    @_os_errors_as_storage_errors
    def describe(self, name: str) -> PoolObject:
        """See ``StorageBackend.describe`` and ``storage._foreign`` for what makes a file unsafe."""
        return self._inspect(name).object

    @_os_errors_as_storage_errors
    def adopt(self, name: str, volume_id: str, size_gb: int) -> None:
        """Rename the file ``name`` to the volume's name, keeping its format record, and grow it.

        The file is looked at again just before the rename, and after it the file under
        the volume's name must be the very one looked at; a failure after the rename
        renames it back. See ``StorageBackend.adopt``.
        """
        target = self.volume_path(volume_id)
        if target.is_file():  # the id is new to this pool: only an earlier adopt put a file there
            self.resize(volume_id, size_gb)
            self._record_path(self._pool / name).unlink(missing_ok=True)
            return
        source = self._pool / name
        seen = self._inspect(name)
        if seen.object.refusal is not None or seen.format is None:
            raise StorageError(f"{name} {seen.object.refusal}")
        if seen.virtual_size > size_gb * GiB:
            raise StorageError(f"{name} has grown beyond {size_gb} GiB since it was looked at")
        had_record = self._recorded_format(source) is not None
        self._write_format(target, seen.format)
        os.rename(source, target)
        renamed = os.lstat(target)
        if (renamed.st_dev, renamed.st_ino) != seen.identity:
            self._give_back(target, source, had_record)
            raise StorageError(f"{name} was replaced while it was being adopted")
        try:
            self._account(source, None)
            self._account(target, seen.virtual_size)
            self.resize(volume_id, size_gb)
        except StorageError:
            self._give_back(target, source, had_record)
            raise
        self._record_path(source).unlink(missing_ok=True)
        _sync_directory(self._pool)

    def _inspect(self, name: str) -> _foreign.Inspection:
        _foreign.check_name(name)
        return _foreign.inspect(self._pool, name, self._recorded_format(self._pool / name))

    def _give_back(self, adopted: Path, original: Path, had_record: bool) -> None:
        """Undo an adopt's rename: the file, and its format record, as they were."""
        os.rename(adopted, original)
        if not had_record:
            self._record_path(original).unlink(missing_ok=True)
        self._record_path(adopted).unlink(missing_ok=True)
        self._account(adopted, None)
        _sync_directory(self._pool)

    def _volume(self, volume_id: str) -> Path:
        """Return the file of an existing volume; raise if there is none."""
        path = self.volume_path(volume_id)
        if not path.is_file():
            raise StorageError(f"volume {volume_id} does not exist")
        return path

    def _origin(self, source: VolumeSource | SnapshotSource | ImageSource) -> tuple[Path, str, int]:
        """What a copy reads: the file, its format (recorded, never probed) and its virtual size."""
        if isinstance(source, ImageSource):
            if not source.path.is_file():
                raise StorageError(f"image file {source.path.name} does not exist")
            return source.path, source.format, _qemu_img.standalone_virtual_size(source.path, source.format)
        path = self._source_path(source)
        fmt = self._format_of(path)
        return path, fmt, _virtual_size(path, fmt)

    def _source_path(self, source: VolumeSource | SnapshotSource) -> Path:
        if isinstance(source, VolumeSource):
            return self._volume(source.volume_id)
        path = self.snapshot_path(source.snapshot_id)
        if not path.is_file():
            raise StorageError(f"snapshot {source.snapshot_id} does not exist")
        return path

    def _already_created(self, volume_id: str, size: int, fmt: DiskFormat) -> bool:
        """Whether the volume exists as asked; raise if it exists otherwise."""
        path = self.volume_path(volume_id)
        if not path.is_file():
            return False
        if self._format_of(path) == fmt and _virtual_size(path, fmt) == size:
            return True
        raise StorageError(f"volume {volume_id} already exists with a different size or format")

    def _require_space(self, need: int) -> None:
        free = self.capacity().free_bytes
        if need > free:
            raise StorageError(f"insufficient free space in pool: need {-(-need // GiB)} GiB, {free // GiB} GiB free")

    def _provisioned(self) -> int:
        """The virtual sizes of every volume and snapshot, from a ledger this backend keeps as it
        writes; the pool is read again now and then, for files put there by hand."""
        with self._ledger_lock:
            if self._ledger is None or time.monotonic() > self._ledger_until:
                files = [*self._pool.glob("volume-*"), *(self._pool / _SNAPSHOTS).glob("snapshot-*")]
                self._ledger = {path.name: self._provisioned_size(path) for path in files}
                self._ledger_until = time.monotonic() + _RESCAN_SECONDS
            return sum(self._ledger.values())

    def _account(self, path: Path, size: int | None) -> None:
        """Note a file's new virtual size in the ledger (None: it is gone)."""
        with self._ledger_lock:
            if self._ledger is None:
                return
            if size is None:
                self._ledger.pop(path.name, None)
            else:
                self._ledger[path.name] = size

    def _provisioned_size(self, path: Path) -> int:
        # A file nobody recorded was put here by hand; count it as the raw file it looks like.
        fmt = self._recorded_format(path) or DiskFormat.RAW
        try:
            return _virtual_size(path, fmt) if path.is_file() else 0
        except FileNotFoundError:
            return 0  # deleted while we were counting

    @contextlib.contextmanager
    def _staging(self, final: Path, fmt: DiskFormat) -> Iterator[Path]:
        """Yield a fresh temp path for ``final`` and move it into place on success.

        In a job step the temp name carries the claim's epoch, so two attempts of one job (a
        lapsed claim's and its taker's) never write one file; an attempt removes what earlier
        attempts left, never a later one's.
        """
        claim = fencing.current()
        epoch = claim.epoch if claim is not None else 0
        tmp = final.with_name(f".tmp-{final.name}" + (f".e{epoch}" if epoch else ""))
        for left in final.parent.glob(f".tmp-{glob.escape(final.name)}*"):
            if 0 <= _attempt_of(left, final) < epoch:
                left.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
        # Recorded before the image appears, so no image is ever without a format.
        self._write_format(final, fmt)
        try:
            yield tmp
            _publish(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def _remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        # Record last: a stray record is harmless, an image without one can't be read safely.
        self._record_path(path).unlink(missing_ok=True)

    def _record_path(self, path: Path) -> Path:
        return self._pool / _FORMATS / path.name

    def _recorded_format(self, path: Path) -> DiskFormat | None:
        try:
            text = self._record_path(path).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        try:
            return DiskFormat(text)
        except ValueError:
            raise StorageError(f"{path.name} has an unknown recorded format") from None

    def _format_of(self, path: Path) -> DiskFormat:
        fmt = self._recorded_format(path)
        if fmt is None:
            raise StorageError(f"{path.name} has no recorded format")
        return fmt

    def _write_format(self, final: Path, fmt: DiskFormat) -> None:
        record = self._record_path(final)
        tmp = record.with_name(f".tmp-{record.name}")
        with tmp.open("w", encoding="ascii") as stream:
            stream.write(fmt.value)
            stream.flush()
            os.fsync(stream.fileno())
        _publish(tmp, record)


def _checked(object_id: str) -> str:
    if not _ID.fullmatch(object_id):
        raise StorageError(f"invalid storage object id {object_id!r}")
    return object_id


def _virtual_size(path: Path, fmt: DiskFormat) -> int:
    """Read the size a guest sees, from the header rather than by running qemu-img."""
    if fmt is DiskFormat.RAW:
        return path.stat().st_size
    end = _QCOW2_SIZE_OFFSET + _QCOW2_SIZE.size
    with path.open("rb") as stream:
        header = stream.read(end)
    if len(header) < end or not header.startswith(_QCOW2_MAGIC):
        raise StorageError(f"{path.name} is not a qcow2 image")
    (size,) = _QCOW2_SIZE.unpack_from(header, _QCOW2_SIZE_OFFSET)
    return int(size)


def _sparse_file(path: Path, size: int) -> None:
    """An empty raw volume: exactly what ``qemu-img create -f raw`` makes (a file of
    ``size`` bytes with nothing allocated), without the cost of starting a process."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def _grow_raw(path: Path, size: int) -> None:
    """Grow a raw volume in place: what ``qemu-img resize -f raw`` does (the new space is a
    hole), without starting a process; made durable before the new size is reported."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fdatasync(fd)  # flushes the new size too: it is needed to read the file
    finally:
        os.close(fd)


def _attempt_of(tmp: Path, final: Path) -> int:
    """The epoch a temp file of ``final`` was staged under (0: none); -1 for another file's."""
    suffix = tmp.name.removeprefix(f".tmp-{final.name}")
    if not suffix:
        return 0
    epoch = suffix.removeprefix(".e")
    return int(epoch) if suffix.startswith(".e") and epoch.isdigit() else -1


def _publish(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final`` and make the rename survive a power cut."""
    os.replace(tmp, final)
    _sync_directory(final.parent)


def _sync_directory(directory: Path) -> None:
    """Make the renames done in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

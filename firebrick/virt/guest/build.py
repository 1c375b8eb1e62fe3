"""Builds the small guest every server runs: the distribution kernel plus a busybox initramfs.

The guest is what makes a volume operation visible. Its ``/init`` (``init.sh`` beside this
module) loads the virtio modules, then reports on the serial console, one line per change::

    DISK <serial> <size in bytes>     a virtio disk appeared or changed size
    DISK-GONE <serial>                a virtio disk disappeared
    GUEST-READY                       booted (disks present at boot are reported before it)

``<serial>`` is the virtio-blk serial as the guest sees it: the first 20 characters of what
the host set (the virtio-blk limit). Reports are event-driven (busybox ``uevent`` runs
``hotplug.sh`` for each kernel uevent, which wakes a watcher), with a 2 s rescan of
``/sys/block`` as a safety net; the watcher compares against what it last printed, so one
change gives one line whichever path noticed it. After ``GUEST-READY`` a root shell runs
on the console (``ttyS0``), so the host can type commands into it.

Inputs: the newest ``/boot/vmlinuz-*-cloud-amd64`` (Debian's ``linux-image-cloud-amd64``),
its six virtio modules (``.ko``, ``.ko.xz`` or ``.ko.zst``; ``.ko.zst`` needs the ``zstd``
command), the static ``/bin/busybox`` (``busybox-static``) and the two scripts. The
initramfs is written in-process (cpio ``newc``, gzip, fixed timestamps), so the same inputs
give the same bytes. Its file name carries a hash of the inputs: :func:`build_guest` returns
the cached file when it exists and builds a new one when any input changed (a kernel
upgrade, say), removing older builds.

Nothing builds the guest ahead of time: the QEMU driver calls :func:`build_guest` into its
state directory on the first boot (under a second). It can also be run by hand::

    python -m firebrick.virt.guest.build DEST_DIR
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from firebrick.errors import VirtError

__all__ = ["MODULES", "GuestImage", "build_guest", "find_kernel"]

# Load order: each needs the ones before it.
MODULES = ("virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk")

# Bump when the layout of the initramfs changes, so old builds are not reused.
_LAYOUT_VERSION = "1"
_MTIME = 0


@dataclass(frozen=True, slots=True)
class GuestImage:
    """What QEMU boots: ``-kernel`` and ``-initrd``."""

    kernel: Path
    initramfs: Path


def find_kernel(boot_dir: Path = Path("/boot")) -> Path:
    """The newest ``vmlinuz-*-cloud-amd64`` in ``boot_dir``.

    Raises:
        VirtError: when there is none (``linux-image-cloud-amd64`` is not installed).
    """
    kernels = sorted(boot_dir.glob("vmlinuz-*-cloud-amd64"), key=lambda p: _version_key(p.name))
    if not kernels:
        raise VirtError(f"no guest kernel {boot_dir}/vmlinuz-*-cloud-amd64 (install linux-image-cloud-amd64)")
    return kernels[-1]


def build_guest(
    dest_dir: Path,
    *,
    boot_dir: Path = Path("/boot"),
    modules_root: Path = Path("/lib/modules"),
    busybox: Path = Path("/bin/busybox"),
) -> GuestImage:
    """Return the guest for the newest cloud kernel, building its initramfs into ``dest_dir`` if needed.

    Safe to call concurrently and repeatedly: a build is written under a temporary name and
    renamed into place.

    Raises:
        VirtError: when the kernel, one of its virtio modules or busybox is missing.
    """
    kernel = find_kernel(boot_dir)
    release = kernel.name.removeprefix("vmlinuz-")
    files = _initramfs_files(modules_root / release, busybox)
    digest = hashlib.sha256(_LAYOUT_VERSION.encode())
    for name, (mode, data) in sorted(files.items()):
        digest.update(f"{name}\0{mode:o}\0{len(data)}\0".encode())
        digest.update(data)
    target = dest_dir / f"initramfs-{release}-{digest.hexdigest()[:16]}.cpio.gz"
    if not target.is_file():
        dest_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, gzip.compress(_cpio(files), compresslevel=9, mtime=0))
        for old in dest_dir.glob("initramfs-*.cpio.gz"):
            if old != target:
                old.unlink(missing_ok=True)
    return GuestImage(kernel=kernel, initramfs=target)


def _initramfs_files(module_dir: Path, busybox: Path) -> dict[str, tuple[int, bytes]]:
    """Path in the initramfs -> (mode, content); symlinks carry their target as content."""
    if not busybox.is_file():
        raise VirtError(f"no static busybox at {busybox} (install busybox-static)")
    files: dict[str, tuple[int, bytes]] = {
        "bin/busybox": (stat.S_IFREG | 0o755, busybox.read_bytes()),
        "bin/sh": (stat.S_IFLNK | 0o777, b"busybox"),  # /init's #! runs before busybox --install
        "init": (stat.S_IFREG | 0o755, _script("init.sh")),
        "sbin/hotplug": (stat.S_IFREG | 0o755, _script("hotplug.sh")),
    }
    builtin = _module_list(module_dir / "modules.builtin")
    paths = _module_list(module_dir / "modules.dep")
    for name in MODULES:
        if name in builtin:
            continue
        if name not in paths:
            raise VirtError(f"kernel module {name} not found in {module_dir}/modules.dep")
        files[f"lib/modules/{name}.ko"] = (stat.S_IFREG | 0o644, _read_module(module_dir / paths[name]))
    return files


def _module_list(listing: Path) -> dict[str, str]:
    """Module name -> path relative to the module directory, from modules.dep or modules.builtin."""
    if not listing.is_file():
        return {}
    found = {}
    for line in listing.read_text().splitlines():
        relative = line.split(":", 1)[0].strip()
        name = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", relative.rsplit("/", 1)[-1])
        # modules.dep spells names as the file does; module names use _ for -.
        found[name.replace("-", "_")] = relative
    return found


def _read_module(path: Path) -> bytes:
    if path.suffix == ".xz":
        return lzma.decompress(path.read_bytes())
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    if path.suffix == ".zst":
        try:
            return subprocess.run(["zstd", "-dc", str(path)], check=True, capture_output=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise VirtError(f"cannot decompress {path} (is zstd installed?): {exc}") from exc
    return path.read_bytes()


def _script(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def _cpio(files: dict[str, tuple[int, bytes]]) -> bytes:
    """A cpio ``newc`` archive of ``files``, their directories and ``/dev/console``."""
    dirs = {"dev", "proc", "sys", "run", "tmp", "lib"}
    for name in files:
        parts = name.split("/")[:-1]
        dirs |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    entries: list[tuple[str, int, bytes, int]] = [(d, stat.S_IFDIR | 0o755, b"", 0) for d in sorted(dirs)]
    # The kernel opens /dev/console for init's stdin/stdout before init runs.
    entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", os.makedev(5, 1)))
    entries += [(name, mode, data, 0) for name, (mode, data) in sorted(files.items())]
    out = bytearray()
    for inode, (name, mode, data, rdev) in enumerate(entries, start=1):
        out += _cpio_entry(name, mode, data, inode, rdev)
    out += _cpio_entry("TRAILER!!!", 0, b"", 0, 0)
    return bytes(out)


def _cpio_entry(name: str, mode: int, data: bytes, inode: int, rdev: int) -> bytes:
    encoded = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (inode, mode, 0, 0, nlink, _MTIME, len(data), 0, 0, os.major(rdev), os.minor(rdev))
    header = b"070701" + b"".join(b"%08X" % f for f in fields) + b"%08X%08X" % (len(encoded), 0)
    entry = header + encoded
    entry += b"\0" * (-len(entry) % 4) + data
    return entry + b"\0" * (-len(entry) % 4)


def _write_atomically(target: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".initramfs-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _version_key(name: str) -> list[tuple[int, str]]:
    return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name)]


if __name__ == "__main__":  # pragma: no cover - a by-hand convenience
    image = build_guest(Path(sys.argv[1]))
    print(f"kernel {image.kernel}\ninitramfs {image.initramfs}")

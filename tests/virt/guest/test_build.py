"""The guest builder, on a made-up /boot and /lib/modules (and once on the real ones)."""

from __future__ import annotations

import gzip
import lzma
import stat
from pathlib import Path

import pytest

from firebrick.errors import VirtError
from firebrick.virt.guest import MODULES, build_guest, find_kernel


def _tree(root: Path, release: str = "6.1.0-9-cloud-amd64", xz: bool = False) -> dict[str, Path]:
    boot, modules, busybox = root / "boot", root / "modules", root / "busybox"
    boot.mkdir(parents=True, exist_ok=True)
    (boot / f"vmlinuz-{release}").write_bytes(b"kernel " + release.encode())
    module_dir = modules / release
    (module_dir / "kernel").mkdir(parents=True, exist_ok=True)
    dep = []
    for name in MODULES:
        relative = f"kernel/{name.replace('_', '-') if name == 'virtio_blk' else name}.ko"
        data = f"module {name}".encode()
        if xz:
            relative += ".xz"
            data = lzma.compress(data)
        (module_dir / relative).write_bytes(data)
        dep.append(f"{relative}:")
    (module_dir / "modules.dep").write_text("\n".join(dep) + "\n")
    busybox.write_bytes(b"busybox")
    return {"boot_dir": boot, "modules_root": modules, "busybox": busybox}


def _cpio(path: Path) -> dict[str, tuple[int, bytes]]:
    """Name -> (mode, data) of a newc archive."""
    data, entries, at = gzip.decompress(path.read_bytes()), {}, 0
    while True:
        fields = [int(data[at + 6 + 8 * i : at + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name = data[at + 110 : at + 110 + namesize - 1].decode()
        at = (at + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data[at : at + size])
        at = (at + size + 3) & ~3


def test_builds_an_initramfs_with_init_busybox_and_modules(tmp_path: Path) -> None:
    image = build_guest(tmp_path / "out", **_tree(tmp_path, xz=True))

    assert image.kernel == tmp_path / "boot" / "vmlinuz-6.1.0-9-cloud-amd64"
    files = _cpio(image.initramfs)
    assert files["init"][1].startswith(b"#!/bin/sh")
    assert b"GUEST-READY" in files["init"][1] and b"DISK-GONE" in files["init"][1]
    assert stat.S_IMODE(files["init"][0]) == 0o755
    assert files["sbin/hotplug"][1].startswith(b"#!/bin/sh")
    assert files["bin/busybox"][1] == b"busybox"
    assert stat.S_ISLNK(files["bin/sh"][0]) and files["bin/sh"][1] == b"busybox"
    assert stat.S_ISCHR(files["dev/console"][0])
    for name in MODULES:  # decompressed, under the name init loads
        assert files[f"lib/modules/{name}.ko"][1] == f"module {name}".encode()


def test_a_build_is_reused_until_an_input_changes(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    first = build_guest(tmp_path / "out", **tree)
    mtime = first.initramfs.stat().st_mtime_ns

    again = build_guest(tmp_path / "out", **tree)
    assert again == first and again.initramfs.stat().st_mtime_ns == mtime

    tree["busybox"].write_bytes(b"busybox, upgraded")
    rebuilt = build_guest(tmp_path / "out", **tree)
    assert rebuilt.initramfs != first.initramfs
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [rebuilt.initramfs.name]


def test_the_newest_cloud_kernel_wins(tmp_path: Path) -> None:
    _tree(tmp_path, "6.1.0-9-cloud-amd64")
    tree = _tree(tmp_path, "6.1.0-10-cloud-amd64")
    (tmp_path / "boot" / "vmlinuz-6.5.0-1-amd64").write_bytes(b"not a cloud kernel")

    assert find_kernel(tree["boot_dir"]).name == "vmlinuz-6.1.0-10-cloud-amd64"
    assert "6.1.0-10" in build_guest(tmp_path / "out", **tree).initramfs.name


def test_missing_inputs_are_named(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    with pytest.raises(VirtError, match="install busybox-static"):
        build_guest(tmp_path / "out", **{**tree, "busybox": tmp_path / "nope"})
    (tmp_path / "modules" / "6.1.0-9-cloud-amd64" / "modules.dep").write_text("kernel/virtio.ko:\n")
    with pytest.raises(VirtError, match="virtio_ring not found"):
        build_guest(tmp_path / "out", **tree)
    with pytest.raises(VirtError, match="install linux-image-cloud-amd64"):
        find_kernel(tmp_path / "empty")


def test_a_builtin_module_is_left_out(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tmp_path / "modules" / "6.1.0-9-cloud-amd64" / "modules.builtin").write_text("kernel/drivers/virtio/virtio.ko\n")

    files = _cpio(build_guest(tmp_path / "out", **tree).initramfs)

    assert "lib/modules/virtio.ko" not in files and "lib/modules/virtio_blk.ko" in files


def test_builds_from_this_host(tmp_path: Path) -> None:
    try:
        find_kernel()
    except VirtError as exc:
        pytest.skip(str(exc))
    if not Path("/bin/busybox").is_file():
        pytest.skip("busybox-static is not installed")

    files = _cpio(build_guest(tmp_path).initramfs)

    assert all(files[f"lib/modules/{name}.ko"][1][:4] == b"\x7fELF" for name in MODULES)

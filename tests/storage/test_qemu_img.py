"""The qemu-img adapter's check of untrusted images: nothing that reads another file is copied."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firebrick.errors import StorageError
from firebrick.storage import _qemu_img

GiB = 1024**3


def _qemu_img_run(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vdi", "vhdx"])
def test_a_self_contained_image_gives_its_virtual_size(tmp_path: Path, fmt: str) -> None:
    image = tmp_path / f"image.{fmt}"
    _qemu_img_run("create", "-q", "-f", fmt, str(image), str(GiB))
    assert _qemu_img.standalone_virtual_size(image, fmt) == GiB


def test_a_qcow2_with_a_backing_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"secret" * 1000)
    image = tmp_path / "image.qcow2"
    _qemu_img_run("create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(secret), str(image))
    with pytest.raises(StorageError, match="refers to other files"):
        _qemu_img.standalone_virtual_size(image, "qcow2")


def test_a_qcow2_with_an_external_data_file_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "image.qcow2"
    data = tmp_path / "data.raw"
    _qemu_img_run("create", "-q", "-f", "qcow2", "-o", f"data_file={data}", str(image), "1M")
    with pytest.raises(StorageError, match="refers to other files"):
        _qemu_img.standalone_virtual_size(image, "qcow2")


def test_a_vmdk_whose_extent_is_another_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"\0" * 512 * 8)
    descriptor = tmp_path / "image.vmdk"
    descriptor.write_text(
        '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n'
        f'RW 8 FLAT "{secret}" 0\n'
    )
    with pytest.raises(StorageError, match="refers to other files"):
        _qemu_img.standalone_virtual_size(descriptor, "vmdk")


def test_data_that_is_not_of_the_named_format_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "image"
    image.write_bytes(b"not an image" * 100)
    with pytest.raises(StorageError):
        _qemu_img.standalone_virtual_size(image, "qcow2")

"""What the fake does beyond the contract: sizes from files, and its test hooks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firebrick.errors import DetachTimeout, VirtError
from firebrick.virt import AttachSpec, DiskFormat, FakeHypervisor, PowerState
from firebrick.virt.fake import image_size


def test_image_size_reads_raw_length_and_qcow2_header(tmp_path: Path) -> None:
    raw, qcow2 = tmp_path / "a.raw", tmp_path / "b.qcow2"
    raw.write_bytes(b"x" * 4096)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "5M"], check=True)

    assert image_size(AttachSpec("a", raw)) == 4096
    assert image_size(AttachSpec("b", qcow2, DiskFormat.QCOW2)) == 5 << 20
    with pytest.raises(VirtError, match="not in qcow2 format"):
        image_size(AttachSpec("a", raw, DiskFormat.QCOW2))
    with pytest.raises(VirtError, match="Could not open"):
        image_size(AttachSpec("c", tmp_path / "missing"))


def test_size_of_lets_tests_attach_without_files() -> None:
    hv = FakeHypervisor(size_of=lambda spec: 1 << 30)
    hv.boot("s1", 512, [AttachSpec("root", Path("/nowhere"))])

    assert hv.attach("s1", AttachSpec("vol", Path("/nowhere/else"))) == "vdb"
    assert hv.console_output("s1").splitlines() == ["DISK root 1073741824", "GUEST-READY", "DISK vol 1073741824"]


def test_pause_makes_detach_time_out_and_crash_leaves_the_server_crashed() -> None:
    hv = FakeHypervisor(size_of=lambda spec: 1)
    hv.boot("s1", 512)
    hv.attach("s1", AttachSpec("vol", Path("/x")))

    hv.pause("s1")
    with pytest.raises(DetachTimeout):
        hv.detach("s1", "vol", timeout=0)
    hv.crash("s1")

    assert hv.power_state("s1") is PowerState.CRASHED
    assert hv.recover().crashed == ("s1",)
    hv.detach("s1", "vol")  # a stopped guest holds nothing
    hv.power_on("s1")
    assert hv.power_state("s1") is PowerState.RUNNING


def test_slots_run_out() -> None:
    hv = FakeHypervisor(size_of=lambda spec: 1, max_disks=2)
    hv.boot("s1", 512)
    hv.attach("s1", AttachSpec("a", Path("/a")))
    hv.attach("s1", AttachSpec("b", Path("/b")))

    with pytest.raises(VirtError, match="no free slot"):
        hv.attach("s1", AttachSpec("c", Path("/c")))
    hv.detach("s1", "a")
    assert hv.attach("s1", AttachSpec("c", Path("/c"))) == "vda"

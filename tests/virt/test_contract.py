"""The Hypervisor contract, checked the same way against the fake and a real QEMU guest.

One server per driver is booted for the whole module (a TCG boot takes about 5 s), and the
tests run in order on it; each uses its own volumes. Checks that need the guest's shell
(reading bytes back, writing after a swap) or the host's view of QEMU's files run on QEMU
only. The last test destroys the server.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from firebrick.errors import DetachTimeout, InvalidInput, NotFound, VirtError
from firebrick.virt import AttachSpec, DiskFormat, FakeHypervisor, Hypervisor, PowerState, QemuHypervisor
from firebrick.virt._accel import kvm_usable
from firebrick.virt.guest import find_kernel

MiB = 1 << 20
SERVER = "srv-contract"
WAIT = 15.0  # seconds for the guest to report a change (it takes 0.02-0.3 s)


def _qemu_missing() -> str | None:
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 is not installed"
    try:
        find_kernel()
    except VirtError as exc:
        return str(exc)
    return None


@dataclass
class Rig:
    """A driver under test, the directory of its volumes, and a way to "restart" it."""

    kind: str
    hv: Hypervisor
    root: Path

    def volume(self, fmt: DiskFormat = DiskFormat.RAW, size: int = MiB, data: bytes = b"") -> AttachSpec:
        """A new image file; the serial is a volume-id-like UUID (longer than the guest shows)."""
        serial = str(uuid.uuid4())
        path = self.root / f"volume-{serial}.{fmt.value}"
        if fmt is DiskFormat.QCOW2:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(size)], check=True)
        else:
            path.write_bytes(data)
            os.truncate(path, size)
        return AttachSpec(serial, path, fmt)

    def shell(self, command: str) -> str:
        if not isinstance(self.hv, QemuHypervisor):
            pytest.skip("the fake guest has no shell")
        return self.hv.run_in_guest(SERVER, command)

    def guest_device(self, serial: str) -> str:
        """The guest's name for the disk with ``serial``, asked inside the guest."""
        match = f'read -r s < "$d/serial"; [ "$s" = "{serial[:20]}" ] && echo "${{d##*/}}"'
        return self.shell(f"for d in /sys/block/vd*; do {match}; done").strip()

    def restart(self) -> None:
        """Replace the driver by a new one over the same state, as a firebrick restart does."""
        if isinstance(self.hv, QemuHypervisor):
            self.hv.close()
            self.hv = QemuHypervisor(self.root / "state", accel="tcg")


@pytest.fixture(scope="module", params=["fake", pytest.param("qemu", marks=pytest.mark.qemu)])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp(f"virt-{request.param}")
    if request.param == "fake":
        hv: Hypervisor = FakeHypervisor()
    else:
        if reason := _qemu_missing():
            pytest.skip(reason)
        # "auto": on a host whose /dev/kvm cannot boot the guest this costs the 5 s probe.
        hv = QemuHypervisor(root / "state", accel="auto", kvm_probe_timeout=5.0)
    rig = Rig(request.param, hv, root)
    try:
        rig.hv.boot(SERVER, 256)
        yield rig
    finally:
        rig.hv.destroy(SERVER)
        rig.hv.close()


def line(spec: AttachSpec, size: int | None) -> str:
    return f"DISK {spec.serial[:20]} {size}" if size is not None else f"DISK-GONE {spec.serial[:20]}"


def console_lines(rig: Rig) -> list[str]:
    return rig.hv.console_output(SERVER).splitlines()


def md5(path: Path, length: int) -> str:
    with path.open("rb") as image:
        return hashlib.md5(image.read(length)).hexdigest()


def test_boot_waits_for_the_guest(rig: Rig) -> None:
    assert rig.hv.power_state(SERVER) is PowerState.RUNNING
    assert rig.hv.is_running(SERVER)
    assert "GUEST-READY" in console_lines(rig)
    if rig.kind == "qemu" and kvm_usable():  # the KVM probe's verdict is remembered
        assert json.loads((rig.root / "state" / "accel.json").read_text())["accel"] in ("kvm", "tcg")


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_attach_reports_serial_and_size(rig: Rig, fmt: DiskFormat) -> None:
    spec = rig.volume(fmt, size=3 * MiB)

    device = rig.hv.attach(SERVER, spec)

    assert re.fullmatch(r"vd[a-p]", device)
    rig.hv.wait_guest_disk(SERVER, spec.serial, 3 * MiB, WAIT)
    assert line(spec, 3 * MiB) in console_lines(rig)
    rig.hv.detach(SERVER, spec.serial)


def test_bytes_written_before_attach_are_read_in_the_guest(rig: Rig) -> None:
    spec = rig.volume(data=os.urandom(4096) + b"firebrick" * 100)
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, MiB, WAIT)

    device = rig.guest_device(spec.serial)
    out = rig.shell(f"dd if=/dev/{device} bs=4096 count=2 2>/dev/null | md5sum")

    assert out.split()[0] == md5(spec.path, 8192)
    rig.hv.detach(SERVER, spec.serial)


def test_attach_again_is_a_no_op_and_another_file_is_refused(rig: Rig) -> None:
    spec = rig.volume()
    device = rig.hv.attach(SERVER, spec)

    assert rig.hv.attach(SERVER, spec) == device
    with pytest.raises(VirtError, match="another file"):
        rig.hv.attach(SERVER, AttachSpec(spec.serial, rig.volume().path))
    rig.hv.detach(SERVER, spec.serial)


def test_attach_of_a_missing_file_fails_and_leaves_nothing(rig: Rig) -> None:
    spec = AttachSpec("missing", rig.root / "no-such-file")

    with pytest.raises(VirtError):
        rig.hv.attach(SERVER, spec)

    rig.hv.detach(SERVER, "missing")  # nothing to do
    spec = rig.volume()
    rig.hv.attach(SERVER, spec)  # the slot and names are free again
    rig.hv.wait_guest_disk(SERVER, spec.serial, MiB, WAIT)
    rig.hv.detach(SERVER, spec.serial)


@pytest.mark.parametrize("fmt", list(DiskFormat))
def test_extend_reports_the_new_size(rig: Rig, fmt: DiskFormat) -> None:
    spec = rig.volume(fmt, size=MiB)
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, MiB, WAIT)

    rig.hv.extend(SERVER, spec.serial, 4 * MiB)

    rig.hv.wait_guest_disk(SERVER, spec.serial, 4 * MiB, WAIT)
    assert line(spec, 4 * MiB) in console_lines(rig)
    with pytest.raises(InvalidInput, match="cannot shrink"):
        rig.hv.extend(SERVER, spec.serial, 2 * MiB)
    if rig.kind == "qemu":
        assert _virtual_size(spec) == 4 * MiB  # QEMU grew the image itself
    rig.hv.detach(SERVER, spec.serial)


def test_extend_of_an_unknown_disk_is_not_found(rig: Rig) -> None:
    with pytest.raises(NotFound):
        rig.hv.extend(SERVER, "nope", MiB)


def test_detach_reports_gone_and_releases_the_image(rig: Rig) -> None:
    spec = rig.volume(DiskFormat.QCOW2)
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, MiB, WAIT)

    rig.hv.detach(SERVER, spec.serial)

    rig.hv.wait_guest_disk(SERVER, spec.serial, None, WAIT)
    assert line(spec, None) in console_lines(rig)
    rig.hv.detach(SERVER, spec.serial)  # again: nothing to do
    if rig.kind == "qemu":
        _assert_unlocked(spec)


def test_detach_times_out_while_the_guest_does_not_let_go(rig: Rig) -> None:
    spec = rig.volume()
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, MiB, WAIT)
    pause, unpause = rig.hv.pause, rig.hv.unpause  # type: ignore[attr-defined]

    pause(SERVER)
    try:
        with pytest.raises(DetachTimeout) as caught:
            rig.hv.detach(SERVER, spec.serial, timeout=1.0)
    finally:
        unpause(SERVER)

    assert caught.value.serial == spec.serial
    rig.hv.detach(SERVER, spec.serial)  # the guest answers again
    rig.hv.wait_guest_disk(SERVER, spec.serial, None, WAIT)


def test_swap_moves_the_disk_onto_a_copy_without_the_guest_noticing(rig: Rig) -> None:
    spec = rig.volume(size=2 * MiB, data=b"before-swap" * 300)
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, 2 * MiB, WAIT)
    copy = AttachSpec(spec.serial, rig.root / f"copy-{spec.serial}.raw")
    shutil.copyfile(spec.path, copy.path)
    before = len(console_lines(rig))

    rig.hv.swap(SERVER, spec.serial, copy)

    if rig.kind == "qemu":
        device = rig.guest_device(spec.serial)
        assert rig.shell(f"dd if=/dev/{device} bs=4096 count=1 2>/dev/null | md5sum").split()[0] == md5(
            spec.path, 4096
        )
        rig.shell(f"echo after-swap | dd of=/dev/{device} bs=512 seek=2048 conv=fsync 2>/dev/null; sync")
        assert _read(copy.path, MiB, 10) == b"after-swap"
        assert _read(spec.path, MiB, 10) != b"after-swap"
        _assert_unlocked(spec)  # the old image is closed
    assert not any(line.startswith("DISK") for line in console_lines(rig)[before:])
    rig.hv.detach(SERVER, spec.serial)  # detaches the copy: the device remembers its new nodes
    rig.hv.wait_guest_disk(SERVER, spec.serial, None, WAIT)
    if rig.kind == "qemu":
        _assert_unlocked(copy)


def test_swap_onto_an_image_of_another_size_fails_and_keeps_the_disk(rig: Rig) -> None:
    spec = rig.volume(size=2 * MiB)
    rig.hv.attach(SERVER, spec)
    other = rig.volume(size=3 * MiB)

    with pytest.raises(VirtError, match="different sizes"):
        rig.hv.swap(SERVER, spec.serial, other)

    rig.hv.extend(SERVER, spec.serial, 3 * MiB)  # still on its own nodes
    rig.hv.wait_guest_disk(SERVER, spec.serial, 3 * MiB, WAIT)
    rig.hv.detach(SERVER, spec.serial)


def test_console_output_honours_length(rig: Rig) -> None:
    everything = console_lines(rig)

    assert rig.hv.console_output(SERVER, 2).splitlines() == everything[-2:]
    assert rig.hv.console_output(SERVER, 0) == ""
    assert len(rig.hv.console_output(SERVER, 10**6).splitlines()) == len(everything)


def test_unknown_servers(rig: Rig) -> None:
    with pytest.raises(NotFound):
        rig.hv.power_state("nobody")
    with pytest.raises(NotFound):
        rig.hv.attach("nobody", rig.volume())
    assert not rig.hv.is_running("nobody")
    rig.hv.destroy("nobody")


def test_power_cycle_brings_every_disk_back(rig: Rig) -> None:
    kept = rig.volume(size=2 * MiB)
    rig.hv.attach(SERVER, kept)

    rig.hv.power_off(SERVER)
    assert rig.hv.power_state(SERVER) is PowerState.SHUTOFF
    added = rig.volume(DiskFormat.QCOW2, size=5 * MiB)
    rig.hv.attach(SERVER, added)  # remembered for the next boot
    rig.hv.power_on(SERVER)

    assert rig.hv.power_state(SERVER) is PowerState.RUNNING
    rig.hv.wait_guest_disk(SERVER, kept.serial, 2 * MiB, 0)  # reported before GUEST-READY
    rig.hv.wait_guest_disk(SERVER, added.serial, 5 * MiB, 0)
    rig.hv.detach(SERVER, added.serial)
    rig.hv.wait_guest_disk(SERVER, added.serial, None, WAIT)


def test_recover_after_a_restart_finds_the_running_guest(rig: Rig) -> None:
    spec = rig.volume(size=6 * MiB)
    rig.hv.attach(SERVER, spec)
    rig.hv.wait_guest_disk(SERVER, spec.serial, 6 * MiB, WAIT)

    rig.restart()
    report = rig.hv.recover()

    assert report.running == (SERVER,)
    assert (report.crashed, report.killed) == ((), ())
    rig.hv.wait_guest_disk(SERVER, spec.serial, 6 * MiB, 0)  # known from the console log
    rig.hv.extend(SERVER, spec.serial, 7 * MiB)
    rig.hv.wait_guest_disk(SERVER, spec.serial, 7 * MiB, WAIT)
    rig.hv.detach(SERVER, spec.serial)
    rig.hv.wait_guest_disk(SERVER, spec.serial, None, WAIT)


def test_power_on_after_a_restart_takes_over_the_running_guest(rig: Rig) -> None:
    pid = rig.hv.pid(SERVER) if isinstance(rig.hv, QemuHypervisor) else None

    rig.restart()
    rig.hv.power_on(SERVER)  # before any recover(): no second QEMU for the same server

    assert rig.hv.power_state(SERVER) is PowerState.RUNNING
    if isinstance(rig.hv, QemuHypervisor):
        assert rig.hv.pid(SERVER) == pid


def test_recover_repairs_a_change_a_crash_left_half_done(rig: Rig) -> None:
    if rig.kind != "qemu":
        pytest.skip("the fake keeps no state that a crash could tear")
    stray, missing = rig.volume(), rig.volume(size=2 * MiB)
    rig.hv.attach(SERVER, stray)
    rig.hv.wait_guest_disk(SERVER, stray.serial, MiB, WAIT)
    record_file = rig.root / "state" / "servers" / SERVER / "server.json"
    record = json.loads(record_file.read_text())
    # As if firebrick died after QEMU plugged `stray` but before the record said so, and
    # after the record got `missing` but before QEMU plugged it.
    port = min(set(range(16)) - {disk["port"] for disk in record["disks"]})
    record["disks"] = [disk for disk in record["disks"] if disk["serial"] != stray.serial]
    record["generation"] += 1
    generation = record["generation"]
    record["disks"].append(
        {"serial": missing.serial, "path": str(missing.path), "format": "raw", "read_only": False,
         "port": port, "qdev": f"disk{generation}", "nodes": generation}
    )  # fmt: skip
    record_file.write_text(json.dumps(record))

    rig.restart()
    assert rig.hv.recover().running == (SERVER,)

    rig.hv.wait_guest_disk(SERVER, stray.serial, None, WAIT)
    rig.hv.wait_guest_disk(SERVER, missing.serial, 2 * MiB, WAIT)
    _assert_unlocked(stray)
    rig.hv.detach(SERVER, missing.serial)
    _assert_unlocked(missing)


def test_reboot_brings_the_guest_back_with_its_disks(rig: Rig) -> None:
    spec = rig.volume(size=2 * MiB)
    rig.hv.attach(SERVER, spec)

    rig.hv.reboot(SERVER)

    assert rig.hv.power_state(SERVER) is PowerState.RUNNING
    assert console_lines(rig).count("GUEST-READY") >= 3  # boot, power-on, reboot
    rig.hv.wait_guest_disk(SERVER, spec.serial, 2 * MiB, 0)


def test_destroy_stops_the_guest_and_forgets_it(rig: Rig) -> None:
    pid = rig.hv.pid(SERVER) if isinstance(rig.hv, QemuHypervisor) else None
    rig.restart()  # and no recover(): the new driver must still stop the old guest

    rig.hv.destroy(SERVER)

    with pytest.raises(NotFound):
        rig.hv.power_state(SERVER)
    if pid is not None:
        assert not Path(f"/proc/{pid}").exists()  # exited and reaped
        assert not (rig.root / "state" / "servers" / SERVER).exists()


def _virtual_size(spec: AttachSpec) -> int:
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", "-f", spec.format.value, str(spec.path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(re.search(r'"virtual-size": (\d+)', out)[1])  # type: ignore[index]


def _assert_unlocked(spec: AttachSpec) -> None:
    """No QEMU holds the image: without -U, qemu-img info needs the image's lock."""
    subprocess.run(["qemu-img", "info", "-f", spec.format.value, str(spec.path)], check=True, capture_output=True)


def _read(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as image:
        image.seek(offset)
        return image.read(length)

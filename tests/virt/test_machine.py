"""QEMU's command line, the console log and pidfile helpers, and long socket paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

from firebrick.storage.base import DiskFormat
from firebrick.virt import AttachSpec
from firebrick.virt._machine import Launch, _connect, _listening, command_line, find_pid, read_console
from firebrick.virt._record import DiskRecord, ServerRecord
from firebrick.virt.guest import GuestImage

LAUNCH = Launch("/usr/bin/qemu-system-x86_64", "tcg", GuestImage(Path("/boot/k"), Path("/g/i.gz")), 16)


def _args(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == option]


def test_command_line(tmp_path: Path) -> None:
    record = ServerRecord("s1", 64)
    disk = DiskRecord("vol-1", "/v/a,b.raw", DiskFormat.RAW.value, True, 3, "disk7", 9)
    record.disks.append(disk)

    argv = command_line(LAUNCH, record, tmp_path / "d,x", 5, 6)

    assert argv[0] == LAUNCH.binary
    assert _args(argv, "-machine") == ["q35"] and _args(argv, "-accel") == ["tcg"] and _args(argv, "-cpu") == ["max"]
    assert _args(argv, "-m") == ["128"]  # at least what the guest needs
    assert "-nodefaults" in argv and "-no-reboot" in argv
    serial, qmp = _args(argv, "-chardev")
    assert serial.startswith("socket,id=serial0,fd=5,server=on,wait=on,")
    assert f"logfile={tmp_path}/d,,x/console.log" in serial  # commas doubled
    assert qmp == "socket,id=qmp0,fd=6,server=on,wait=off"
    ports = [d for d in _args(argv, "-device") if d.startswith("pcie-root-port")]
    assert len(ports) == 16 and len({p.split("addr=")[1].split(",")[0] for p in ports}) == 16
    blockdevs = [json.loads(b) for b in _args(argv, "-blockdev")]
    assert blockdevs[0]["filename"] == "/v/a,b.raw" and blockdevs[0]["read-only"] is True
    assert blockdevs[1] == {**blockdevs[1], "driver": "raw", "node-name": "fmt9", "file": "file9"}
    device = json.loads(_args(argv, "-device")[-1])
    assert device == {"driver": "virtio-blk-pci", "id": "disk7", "bus": "rp3", "drive": "fmt9", "serial": "vol-1"}
    assert disk.device == "vdd" and disk.spec() == AttachSpec("vol-1", Path("/v/a,b.raw"), read_only=True)


def test_kvm_uses_the_host_cpu(tmp_path: Path) -> None:
    kvm = Launch(LAUNCH.binary, "kvm", LAUNCH.guest, 0)

    argv = command_line(kvm, ServerRecord("s1", 512), tmp_path, 5, 6)

    assert _args(argv, "-cpu") == ["host,-arch-capabilities"] and _args(argv, "-m") == ["512"]
    assert not [d for d in _args(argv, "-device") if d.startswith("pcie-root-port")]


def test_read_console_from_an_offset(tmp_path: Path) -> None:
    (tmp_path / "console.log").write_bytes(b"old boot\r\nGUEST-READY\r\nnew\r\nDISK a 1\r\n")

    assert read_console(tmp_path) == "old boot\nGUEST-READY\nnew\nDISK a 1\n"
    assert read_console(tmp_path, offset=23) == "new\nDISK a 1\n"
    assert read_console(tmp_path, limit=10) == "DISK a 1\n"
    assert read_console(tmp_path / "missing") == ""


def test_find_pid_checks_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "qemu.pid").write_text(f"{os.getpid()}\n")

    assert find_pid(tmp_path) is None  # this process does not name that pidfile
    assert find_pid(tmp_path / "missing") is None


def test_sockets_work_in_directories_with_long_paths(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)

    with _listening(deep / "serial.sock") as server:
        client = _connect(deep / "serial.sock")
        peer, _ = server.accept()
        client.setblocking(True)
        client.sendall(b"hi")
        assert peer.recv(2) == b"hi"
        peer.close()
        client.close()
    assert (deep / "serial.sock").exists() and len(str(deep / "serial.sock")) > 108  # past the sun_path limit

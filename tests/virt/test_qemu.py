"""QemuHypervisor without booting a guest (the contract tests boot one): set-up errors,
unknown servers, and recovery that kills QEMU processes no server owns."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.errors import InvalidInput, NotFound, VirtError
from firebrick.virt import AttachSpec, QemuHypervisor, RecoveryReport


@pytest.fixture
def hv(tmp_path: Path) -> Iterator[QemuHypervisor]:
    driver = QemuHypervisor(tmp_path / "state", accel="tcg")
    yield driver
    driver.close()


def _pretend_qemu(pidfile: Path) -> subprocess.Popen[bytes]:
    """A process that looks like one of our QEMUs to /proc: ``-pidfile`` under the state."""
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    code = "import time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", code, "-pidfile", str(pidfile)])


def test_unknown_servers_are_not_found(hv: QemuHypervisor) -> None:
    for call in (
        lambda: hv.power_state("nobody"),
        lambda: hv.power_on("nobody"),
        lambda: hv.console_output("nobody"),
        lambda: hv.attach("nobody", AttachSpec("v", Path("/dev/null"))),
        lambda: hv.wait_guest_disk("nobody", "v", None, 0),
    ):
        with pytest.raises(NotFound):
            call()
    hv.destroy("nobody")


def test_server_ids_must_be_plain_names(hv: QemuHypervisor) -> None:
    with pytest.raises(InvalidInput):
        hv.boot("../escape", 256)


def test_a_missing_qemu_binary_is_reported(tmp_path: Path) -> None:
    driver = QemuHypervisor(tmp_path, accel="tcg", qemu_binary="no-such-qemu")
    try:
        with pytest.raises(VirtError, match="no-such-qemu is not installed"):
            driver.boot("s1", 256)
    finally:
        driver.close()


def test_recover_on_an_empty_state_finds_nothing(hv: QemuHypervisor) -> None:
    assert hv.recover() == RecoveryReport()


def test_recover_kills_qemu_processes_that_no_server_owns(hv: QemuHypervisor, tmp_path: Path) -> None:
    orphan = _pretend_qemu(tmp_path / "state" / "servers" / "ghost" / "qemu.pid")
    elsewhere = _pretend_qemu(tmp_path / "other-state" / "servers" / "ghost" / "qemu.pid")
    try:
        report = hv.recover()

        assert report.killed == ("ghost",)
        assert not Path(f"/proc/{orphan.pid}").exists()  # killed and reaped
        assert elsewhere.poll() is None  # not under this driver's state: not ours
    finally:
        for process in (orphan, elsewhere):
            process.kill()
            process.wait()


def test_recover_reports_a_server_whose_process_is_gone(tmp_path: Path) -> None:
    servers = tmp_path / "state" / "servers"
    for name, on in (("was-on", "true"), ("was-off", "false")):
        (servers / name).mkdir(parents=True)
        (servers / name / "server.json").write_text(
            f'{{"server_id": "{name}", "memory_mb": 256, "powered_on": {on}, "disks": []}}'
        )
    driver = QemuHypervisor(tmp_path / "state", accel="tcg")
    try:
        report = driver.recover()

        assert (report.crashed, report.shut_off, report.running) == (("was-on",), ("was-off",), ())
        assert driver.power_state("was-on").value == "crashed"
        assert "" == driver.console_output("was-off")
    finally:
        driver.close()


def test_ports_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        QemuHypervisor(tmp_path, ports=27)

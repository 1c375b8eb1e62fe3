"""One QEMU process: its command line, start, adoption after a restart, and stop.

The server's directory holds ``server.json`` (the record), ``qmp.sock`` and
``serial.sock`` (listening sockets owned by QEMU), ``console.log`` (the serial console,
appended across boots), ``qemu.pid`` and ``qemu.log`` (QEMU's own stderr).

The two sockets are bound here and handed to QEMU as listening descriptors (``fd=``, as
libvirt does), then connected to at once: the connections wait in the backlog until QEMU
accepts them, so there is no "wait for the socket file" loop, and the serial console's
``wait=on`` holds the guest until its reader is there (no output is lost). Because QEMU
keeps listening, a new firebrick can connect again after a restart.

QEMU runs as our child in its own session (so a Ctrl-C of firebrick does not reach it).
Its exit is noticed through a pidfd, which works for a process adopted after a restart
as well; a child is reaped there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firebrick.errors import GuestTimeout, VirtError
from firebrick.virt._console import Console
from firebrick.virt._disks import file_node, format_node, virtio_device
from firebrick.virt._monitor import Monitor
from firebrick.virt._record import ServerRecord
from firebrick.virt.base import GuestView
from firebrick.virt.guest.build import GuestImage

__all__ = ["Launch", "Machine"]

_CONNECT_SECONDS = 30.0
_KILL_SECONDS = 10.0
_MIN_MEMORY_MB = 128  # the kernel and initramfs need about 100 MiB


@dataclass(frozen=True, slots=True)
class Launch:
    """How to start a server's QEMU: binary, accelerator, guest and number of root ports."""

    binary: str
    accel: str
    guest: GuestImage
    ports: int


class Machine:
    """A live QEMU process with its monitor and console (loop-thread only)."""

    def __init__(self, server_id: str, directory: Path, pid: int, view: GuestView) -> None:
        self.server_id = server_id
        self.directory = directory
        self.pid = pid
        self.monitor = Monitor(server_id)
        self.console = Console(server_id, view)
        self.exited = asyncio.Event()
        self._pidfd = os.pidfd_open(pid)
        asyncio.get_running_loop().add_reader(self._pidfd, self._on_exit)

    # --- start, adopt, stop ----------------------------------------------------------

    @classmethod
    async def start(cls, launch: Launch, record: ServerRecord, directory: Path, boot_timeout: float) -> Machine:
        """Start QEMU for ``record`` and return once the guest said ``GUEST-READY``.

        Sets ``record.console_offset`` to where this boot's console output starts.

        Raises:
            GuestTimeout: when the guest is not ready within ``boot_timeout`` seconds.
            VirtError: when QEMU cannot start or exits early (its stderr is in the message).
        """
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / "console.log"
        record.console_offset = log.stat().st_size if log.exists() else 0
        with _listening(directory / "serial.sock") as serial, _listening(directory / "qmp.sock") as qmp:
            argv = command_line(launch, record, directory, serial.fileno(), qmp.fileno())
            pid = _spawn(argv, (serial.fileno(), qmp.fileno()), directory / "qemu.log")
            machine = cls(record.server_id, directory, pid, GuestView())
            try:
                # Our listening copies are still open, so these land in the backlog.
                serial_client, qmp_client = _connect(directory / "serial.sock"), _connect(directory / "qmp.sock")
            except OSError as exc:
                await machine.kill()
                raise VirtError(f"cannot connect to QEMU: {exc}", record.server_id) from exc
        try:
            await machine.console.open(serial_client)
            await machine.monitor.connect(qmp_client, _CONNECT_SECONDS)
            await machine._wait_ready(boot_timeout)
        except BaseException as exc:
            await machine.kill()
            if isinstance(exc, VirtError) and not isinstance(exc, GuestTimeout):
                raise VirtError(f"{exc}; QEMU said: {machine.stderr_tail()}", record.server_id) from exc
            raise
        return machine

    @classmethod
    async def adopt(cls, record: ServerRecord, directory: Path) -> Machine | None:
        """Reconnect to the QEMU of ``record`` left running by an earlier firebrick.

        Returns ``None`` when no such process runs.

        Raises:
            VirtError: when it runs but does not answer (it is killed).
        """
        pid = find_pid(directory)
        if pid is None:
            return None
        try:
            machine = cls(record.server_id, directory, pid, GuestView())
        except ProcessLookupError:
            return None
        try:
            await machine.console.open(_connect(directory / "serial.sock"))
            # What the guest said while nobody listened is in the log.
            for line in read_console(directory, record.console_offset).splitlines():
                machine.console.view.feed(line)
            await machine.monitor.connect(_connect(directory / "qmp.sock"), _CONNECT_SECONDS)
        except (OSError, VirtError) as exc:
            await machine.kill()
            raise VirtError(f"server {record.server_id}: QEMU runs but does not answer ({exc})") from exc
        return machine

    async def stop(self, timeout: float) -> None:
        """Quit QEMU; kill it when it has not exited after ``timeout`` seconds."""
        if not self.exited.is_set():
            with contextlib.suppress(VirtError):
                await self.monitor.execute("quit")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exited.wait(), timeout)
        await self.kill()

    async def kill(self) -> None:
        """SIGKILL QEMU (if it still runs), wait for its exit and close the connections."""
        if not self.exited.is_set():
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exited.wait(), _KILL_SECONDS)
        await self.monitor.close()
        await self.console.close()

    async def disconnect(self) -> None:
        """Let go of QEMU without stopping it (a new driver can adopt it)."""
        if not self.exited.is_set():
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self.exited.set()  # as far as this object is concerned
        await self.monitor.close()
        await self.console.close()

    @property
    def alive(self) -> bool:
        return not self.exited.is_set()

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            text = (self.directory / "qemu.log").read_text(errors="replace")
        except OSError:
            return ""
        return text[-limit:].strip() or "(nothing)"

    # --- internals -------------------------------------------------------------------

    async def _wait_ready(self, timeout: float) -> None:
        view = self.console.view
        if await self.console.wait_for(lambda: view.ready or self.exited.is_set(), timeout) and view.ready:
            return
        if self.exited.is_set() or self.console.closed.is_set():
            raise VirtError("QEMU exited while the guest booted", self.server_id)
        raise GuestTimeout(self.server_id, "GUEST-READY", timeout)

    def _on_exit(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        with contextlib.suppress(ChildProcessError):  # adopted: not our child, init reaps it
            os.waitpid(self.pid, os.WNOHANG)
        self.exited.set()


def command_line(launch: Launch, record: ServerRecord, directory: Path, serial_fd: int, qmp_fd: int) -> list[str]:
    """QEMU's arguments: q35, ACPI PCI hotplug (the default; native PCIe hotplug waits 5 s
    per unplug), one root port per hot-pluggable disk, the record's disks cold-plugged."""
    cpu = "max" if launch.accel == "tcg" else "host,-arch-capabilities"
    log = _escape(str(directory / "console.log"))
    argv = [launch.binary, "-name", f"firebrick-{record.server_id}", "-accel", launch.accel]
    argv += ["-machine", "q35", "-cpu", cpu, "-m", str(max(record.memory_mb, _MIN_MEMORY_MB)), "-smp", "1"]
    argv += ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
    argv += ["-kernel", str(launch.guest.kernel), "-initrd", str(launch.guest.initramfs)]
    argv += ["-append", "console=ttyS0 quiet panic=-1"]
    argv += ["-chardev", f"socket,id=serial0,fd={serial_fd},server=on,wait=on,logfile={log},logappend=on"]
    argv += ["-serial", "chardev:serial0"]
    argv += ["-chardev", f"socket,id=qmp0,fd={qmp_fd},server=on,wait=off", "-mon", "chardev=qmp0,mode=control"]
    argv += ["-pidfile", str(directory / "qemu.pid")]
    for port in range(launch.ports):
        # Slots 2-3 (and on), eight ports each, like libvirt's layout.
        slot, function = divmod(port, 8)
        multifunction = ",multifunction=on" if function == 0 else ""
        argv += [
            "-device",
            f"pcie-root-port,id=rp{port},bus=pcie.0,chassis={port + 1},port={port + 1},"
            f"addr={slot + 2:#x}.{function}{multifunction}",
        ]
    for disk in record.disks:
        argv += ["-blockdev", json.dumps(file_node(disk)), "-blockdev", json.dumps(format_node(disk))]
        argv += ["-device", json.dumps(virtio_device(disk))]
    return argv


def find_pid(directory: Path) -> int | None:
    """The pid of the QEMU running for ``directory``, checked against its command line."""
    pidfile = directory / "qemu.pid"
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if str(pidfile).encode() in cmdline else None


def read_console(directory: Path, offset: int = 0, limit: int = 1 << 20) -> str:
    """The console log from ``offset`` on, at most its last ``limit`` bytes, with ``\\r\\n`` as ``\\n``."""
    try:
        with (directory / "console.log").open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(offset, size - limit, 0))
            data = log.read()
    except FileNotFoundError:
        return ""
    return data.decode(errors="replace").replace("\r\n", "\n").replace("\r", "")


def _spawn(argv: list[str], fds: tuple[int, ...], log: Path) -> int:
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    for fd in fds:
        os.set_inheritable(fd, True)
    try:
        # A fixed, small environment: QEMU needs none of firebrick's.
        return os.posix_spawn(argv[0], argv, {"LC_ALL": "C"}, file_actions=actions, setsid=True)
    except OSError as exc:
        raise VirtError(f"cannot start {argv[0]}: {exc.strerror}") from exc
    finally:
        for fd in fds:
            os.set_inheritable(fd, False)


@contextlib.contextmanager
def _listening(path: Path) -> Iterator[socket.socket]:
    """A unix socket listening at ``path`` (replacing a stale one); closed on exit."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _short(path) as address:
            sock.bind(address)
        sock.listen(1)
        yield sock
    finally:
        sock.close()


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _short(path) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def _short(path: Path) -> Iterator[str]:
    """``path`` as a socket address: unix addresses are limited to 107 bytes, so a long
    one is reached through ``/proc/self/fd`` and a descriptor of its directory."""
    if len(str(path)) < 100:
        yield str(path)
        return
    directory = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


def _escape(value: str) -> str:
    """QEMU's option syntax: a comma inside a value is written twice."""
    return value.replace(",", ",,")

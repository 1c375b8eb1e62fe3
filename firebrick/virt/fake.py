"""An in-memory hypervisor with the QEMU driver's behaviour, for fast tests.

Servers, their disks and sizes live in a dict; the "guest" answers at once and writes the
same console lines a real guest does (``DISK <serial> <size>``, ``DISK-GONE <serial>``,
``GUEST-READY``). A disk's size is read from its image file (a raw file's length, a qcow2
header's virtual size) unless the driver is given ``size_of``, so tests whose storage holds
no files can still attach.

Test hooks, beyond the contract: :meth:`FakeHypervisor.pause` freezes a guest so that it
never lets go of a disk (``detach`` raises ``DetachTimeout`` at once, without waiting), and
:meth:`FakeHypervisor.crash` stops a guest behind the driver's back (``CRASHED``).
"""

from __future__ import annotations

import string
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from firebrick.errors import DetachTimeout, GuestTimeout, InvalidInput, NotFound, VirtError
from firebrick.storage.base import DiskFormat
from firebrick.virt.base import AttachSpec, GuestView, Hypervisor, PowerState, RecoveryReport, guest_serial

__all__ = ["FakeHypervisor", "image_size"]

_QCOW2_MAGIC = b"QFI\xfb"


def image_size(spec: AttachSpec) -> int:
    """The virtual size of an image file, as QEMU would open it.

    Raises:
        VirtError: when the file cannot be read or is not a qcow2 image when it should be.
    """
    try:
        if spec.format is DiskFormat.RAW:
            return spec.path.stat().st_size
        with spec.path.open("rb") as image:
            header = image.read(32)
    except OSError as exc:
        raise VirtError(f"Could not open '{spec.path}': {exc.strerror}") from exc
    if len(header) < 32 or header[:4] != _QCOW2_MAGIC:
        raise VirtError(f"Image is not in qcow2 format: '{spec.path}'")
    size: int = struct.unpack(">Q", header[24:32])[0]
    return size


@dataclass
class _Disk:
    spec: AttachSpec
    device: str
    size: int


@dataclass
class _Server:
    memory_mb: int
    powered_on: bool = False
    running: bool = False
    paused: bool = False
    disks: dict[str, _Disk] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)
    view: GuestView = field(default_factory=GuestView)


class FakeHypervisor(Hypervisor):
    """See the module docstring; ``max_disks`` matches the QEMU driver's slots."""

    def __init__(self, size_of: Callable[[AttachSpec], int] = image_size, max_disks: int = 16) -> None:
        self._size_of = size_of
        self._max_disks = max_disks
        self._servers: dict[str, _Server] = {}
        self._changed = threading.Condition()

    # --- servers ---------------------------------------------------------------------

    def boot(self, server_id: str, memory_mb: int, disks: Sequence[AttachSpec] = ()) -> None:
        with self._changed:
            if server_id not in self._servers:
                server = _Server(memory_mb)
                for spec in disks:
                    self._add_disk(server, spec)
                self._servers[server_id] = server
            self._start(self._servers[server_id])

    def destroy(self, server_id: str) -> None:
        with self._changed:
            self._servers.pop(server_id, None)

    def power_state(self, server_id: str) -> PowerState:
        with self._changed:
            server = self._server(server_id)
            if server.running:
                return PowerState.RUNNING
            return PowerState.CRASHED if server.powered_on else PowerState.SHUTOFF

    def power_off(self, server_id: str) -> None:
        with self._changed:
            server = self._server(server_id)
            server.running = server.powered_on = server.paused = False

    def power_on(self, server_id: str) -> None:
        with self._changed:
            server = self._server(server_id)
            if not server.running:
                self._start(server)

    def reboot(self, server_id: str) -> None:
        with self._changed:
            self._start(self._server(server_id))

    def console_output(self, server_id: str, length: int | None = None) -> str:
        with self._changed:
            lines = self._server(server_id).console
            if length is not None:
                lines = lines[len(lines) - length :] if length > 0 else []
            return "".join(line + "\n" for line in lines)

    def recover(self) -> RecoveryReport:
        with self._changed:
            states = {sid: self.power_state(sid) for sid in self._servers}
        return RecoveryReport(
            running=tuple(sid for sid, state in states.items() if state is PowerState.RUNNING),
            shut_off=tuple(sid for sid, state in states.items() if state is PowerState.SHUTOFF),
            crashed=tuple(sid for sid, state in states.items() if state is PowerState.CRASHED),
        )

    # --- disks -----------------------------------------------------------------------

    def attach(self, server_id: str, spec: AttachSpec) -> str:
        with self._changed:
            server = self._server(server_id)
            if (disk := server.disks.get(spec.serial)) is not None:
                if disk.spec.path != spec.path:
                    raise VirtError(f"disk {spec.serial} is attached to {server_id} from another file", server_id)
                return disk.device
            disk = self._add_disk(server, spec)
            if server.running:
                self._say(server, f"DISK {guest_serial(spec.serial)} {disk.size}")
            return disk.device

    def extend(self, server_id: str, serial: str, new_size: int) -> None:
        with self._changed:
            server = self._server(server_id)
            disk = self._disk(server, serial)
            if new_size < disk.size:
                raise InvalidInput(f"disk {serial} is {disk.size} bytes; it cannot shrink to {new_size}")
            if new_size != disk.size and server.running:
                self._say(server, f"DISK {guest_serial(serial)} {new_size}")
            disk.size = new_size

    def detach(self, server_id: str, serial: str, timeout: float = 30.0) -> None:
        with self._changed:
            server = self._server(server_id)
            if serial not in server.disks:
                return
            if server.running and server.paused:
                raise DetachTimeout(server_id, serial, timeout)
            del server.disks[serial]
            if server.running:
                self._say(server, f"DISK-GONE {guest_serial(serial)}")

    def swap(self, server_id: str, serial: str, spec: AttachSpec, timeout: float = 300.0) -> None:
        with self._changed:
            disk = self._disk(self._server(server_id), serial)
            if disk.spec.path == spec.path:
                return  # swapped already
            if spec.read_only:
                raise VirtError("the target of a swap must be writable", server_id)
            if (size := self._size_of(spec)) != disk.size:
                raise VirtError(f"Source and target image have different sizes ({disk.size}, {size})", server_id)
            disk.spec = AttachSpec(serial, spec.path, spec.format, disk.spec.read_only)

    def wait_guest_disk(self, server_id: str, serial: str, size: int | None, timeout: float) -> None:
        with self._changed:
            server = self._server(server_id)
            if not server.running or not self._changed.wait_for(lambda: server.view.has(serial, size), timeout):
                wanted = f"DISK {guest_serial(serial)} {size}" if size is not None else f"DISK-GONE {serial}"
                raise GuestTimeout(server_id, wanted, timeout)

    # --- test hooks ------------------------------------------------------------------

    def pause(self, server_id: str) -> None:
        """Freeze the guest: it no longer lets go of disks."""
        with self._changed:
            self._server(server_id).paused = True

    def unpause(self, server_id: str) -> None:
        with self._changed:
            self._server(server_id).paused = False

    def crash(self, server_id: str) -> None:
        """Stop the guest as a crash would: it should be running, and is not."""
        with self._changed:
            server = self._server(server_id)
            server.running = server.paused = False

    # --- internals -------------------------------------------------------------------

    def _server(self, server_id: str) -> _Server:
        try:
            return self._servers[server_id]
        except KeyError:
            raise NotFound("server", server_id) from None

    def _disk(self, server: _Server, serial: str) -> _Disk:
        try:
            return server.disks[serial]
        except KeyError:
            raise NotFound("disk", serial) from None

    def _add_disk(self, server: _Server, spec: AttachSpec) -> _Disk:
        used = {disk.device for disk in server.disks.values()}
        free = [f"vd{letter}" for letter in string.ascii_lowercase[: self._max_disks] if f"vd{letter}" not in used]
        if not free:
            raise VirtError(f"no free slot for another disk (at most {self._max_disks})")
        disk = _Disk(spec, free[0], self._size_of(spec))
        server.disks[spec.serial] = disk
        return disk

    def _start(self, server: _Server) -> None:
        server.running = server.powered_on = True
        server.paused = False
        server.view = GuestView()
        for serial, disk in server.disks.items():
            self._say(server, f"DISK {guest_serial(serial)} {disk.size}")
        self._say(server, "GUEST-READY")

    def _say(self, server: _Server, line: str) -> None:
        server.console.append(line)
        server.view.feed(line)
        self._changed.notify_all()

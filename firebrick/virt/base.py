"""The contract every hypervisor driver keeps, and the guest's console protocol.

A driver runs *servers* (guests) and plugs volumes into them. Callers name servers by
firebrick ids and disks by their *serial* (the volume id, as Nova does); which process,
PCI slot or block node backs them is the driver's business. A driver remembers each server
(its memory size and its disks) until :meth:`Hypervisor.destroy`, across power cycles and
across a restart of firebrick, so a server that is powered on again comes back with all of
its disks.

Verbs that change a server are safe to repeat: attaching a disk that is attached (same
file) returns its device again, detaching one that is gone and destroying a server that is
gone do nothing. On a server that is shut off, ``attach``, ``detach``, ``extend`` and
``swap`` only change what the driver remembers; the guest sees the result when it boots.

What the guest reports: every server runs the small guest of ``firebrick.virt.guest``,
which prints one line on its serial console per change of its virtio disks::

    DISK <serial> <size in bytes>
    DISK-GONE <serial>
    GUEST-READY

``<serial>`` is the first 20 characters of the serial the host set (virtio-blk's limit;
:func:`guest_serial`). :class:`GuestView` folds these lines into "which disks, what size";
:meth:`Hypervisor.wait_guest_disk` waits on it, which is how an extend is confirmed.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from firebrick.errors import NotFound
from firebrick.storage.base import DiskFormat

__all__ = [
    "SERIAL_LENGTH",
    "AttachSpec",
    "DiskFormat",
    "GuestView",
    "Hypervisor",
    "PowerState",
    "RecoveryReport",
    "guest_serial",
]

# virtio-blk's VIRTIO_BLK_ID_BYTES: the guest sees at most this much of a serial.
SERIAL_LENGTH = 20

_DISK = re.compile(r"DISK (\S+) (\d+)")
_GONE = re.compile(r"DISK-GONE (\S+)")
_READY = "GUEST-READY"


def guest_serial(serial: str) -> str:
    """The serial as the guest reports it: its first 20 characters."""
    return serial[:SERIAL_LENGTH]


@dataclass(frozen=True, slots=True)
class AttachSpec:
    """A volume to plug into a server: a local image file and how to open it.

    ``serial`` is what the guest sees (Nova uses the volume id); ``format`` comes from the
    volume's record, never from probing the guest-writable bytes. ``shared`` (a multiattach
    volume) lets other servers' hypervisors open the same image for writing too.
    """

    serial: str
    path: Path
    format: DiskFormat = DiskFormat.RAW
    read_only: bool = False
    shared: bool = False


class PowerState(enum.StrEnum):
    """A server's power state, with Nova's meaning."""

    RUNNING = "running"
    SHUTOFF = "shutoff"  # powered off on purpose
    CRASHED = "crashed"  # should be running, but its process is gone


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What :meth:`Hypervisor.recover` found, by server id.

    ``crashed`` servers were running when firebrick stopped and are not any more: power
    them on again (they come back with their disks) or record them as stopped. ``killed``
    lists hypervisor processes that were stopped because no server owned them, or because
    they no longer answered.
    """

    running: tuple[str, ...] = ()
    shut_off: tuple[str, ...] = ()
    crashed: tuple[str, ...] = ()
    killed: tuple[str, ...] = ()


@dataclass
class GuestView:
    """What a guest has said on its console since it last booted: whether it is ready,
    and the size of each disk it sees, by (guest) serial."""

    ready: bool = False
    disks: dict[str, int] = field(default_factory=dict)

    def feed(self, line: str) -> bool:
        """Take one console line; return whether it was a protocol line."""
        line = line.strip()
        if line == _READY:
            self.ready = True
        elif match := _DISK.fullmatch(line):
            self.disks[match[1]] = int(match[2])
        elif match := _GONE.fullmatch(line):
            self.disks.pop(match[1], None)
        else:
            return False
        return True

    def has(self, serial: str, size: int | None) -> bool:
        """Whether the guest sees ``serial`` at ``size`` bytes (``None``: does not see it)."""
        return self.disks.get(guest_serial(serial)) == size


class Hypervisor(abc.ABC):
    """Runs servers and plugs volumes into them; see the module docstring.

    STYLE.md's R9 asks for at most eight abstract methods. This base has more because the
    compute API needs Nova's server verbs (boot, stop, start, reboot, delete, console) as
    well as the four disk verbs, and folding them into one "set power" call would only
    move the branching into every caller.
    """

    # --- servers ---------------------------------------------------------------------

    @abc.abstractmethod
    def boot(self, server_id: str, memory_mb: int, disks: Sequence[AttachSpec] = ()) -> None:
        """Create a server with ``disks`` plugged in, start it, and return once the guest
        is ready (``GUEST-READY``). Booting a server that exists powers it on.

        Raises:
            GuestTimeout: when the guest does not become ready in time (it is stopped).
            VirtError: when the hypervisor cannot start it.
        """

    @abc.abstractmethod
    def destroy(self, server_id: str) -> None:
        """Stop a server (forcibly if it does not stop in time) and forget it and its
        console log. The disks' files are untouched. Unknown servers are ignored."""

    @abc.abstractmethod
    def power_state(self, server_id: str) -> PowerState:
        """Report whether the server is running.

        Raises:
            NotFound: when the driver has no such server.
        """

    def is_running(self, server_id: str) -> bool:
        """Whether the server is running (``False`` for an unknown server)."""
        try:
            return self.power_state(server_id) is PowerState.RUNNING
        except NotFound:
            return False

    @abc.abstractmethod
    def power_off(self, server_id: str) -> None:
        """Stop the server's guest, keeping the server and its disks. Idempotent.

        Raises:
            NotFound: when the driver has no such server.
        """

    @abc.abstractmethod
    def power_on(self, server_id: str) -> None:
        """Start a stopped (or crashed) server with all of its disks, and return once the
        guest is ready. Idempotent.

        Raises:
            NotFound: when the driver has no such server.
            GuestTimeout, VirtError: as for :meth:`boot`.
        """

    @abc.abstractmethod
    def reboot(self, server_id: str) -> None:
        """Restart the server's guest (a hard reboot), and return once it is ready.

        Raises:
            NotFound: when the driver has no such server.
            GuestTimeout, VirtError: as for :meth:`boot`.
        """

    @abc.abstractmethod
    def console_output(self, server_id: str, length: int | None = None) -> str:
        """The guest's serial console as captured across its boots: the last ``length``
        lines, or all of it when ``length`` is ``None``.

        Raises:
            NotFound: when the driver has no such server.
        """

    @abc.abstractmethod
    def recover(self) -> RecoveryReport:
        """Find the servers this driver's state describes, after a restart of firebrick:
        reconnect to those still running, and stop any hypervisor process no server owns.
        Call it once, before other calls, on a new driver over an existing state."""

    # --- disks -----------------------------------------------------------------------

    @abc.abstractmethod
    def attach(self, server_id: str, spec: AttachSpec) -> str:
        """Plug a volume into the server; return the device name it is given (``vdb``).

        The name is the driver's best guess of the guest's name (Linux names virtio disks
        in the order it finds them): like Nova's, it is not guaranteed, and the serial is
        the reliable key. The guest reports ``DISK <serial> <size>`` shortly after.

        Raises:
            NotFound: when the driver has no such server.
            VirtError: when the serial is attached to another file, the server has no free
                slot, or the hypervisor cannot open the file.
        """

    @abc.abstractmethod
    def extend(self, server_id: str, serial: str, new_size: int) -> None:
        """Tell the guest that a disk grew to ``new_size`` bytes (growing the image too,
        when it is smaller). The guest reports ``DISK <serial> <new_size>`` shortly after;
        see :meth:`wait_guest_disk`.

        Raises:
            NotFound: when the server or the disk is unknown.
            InvalidInput: when ``new_size`` is smaller than the disk.
            VirtError: when the hypervisor refuses.
        """

    @abc.abstractmethod
    def detach(self, server_id: str, serial: str, timeout: float = 30.0) -> None:
        """Unplug a disk and close its image, once the guest has let go of it.

        The request is repeated until the guest acknowledges it or ``timeout`` seconds
        pass; the image is never closed before the guest let go.

        Raises:
            NotFound: when the driver has no such server.
            DetachTimeout: when the guest did not let go in time (the disk stays attached).
            VirtError: when the hypervisor refuses.
        """

    @abc.abstractmethod
    def swap(self, server_id: str, serial: str, spec: AttachSpec, timeout: float = 300.0) -> None:
        """Move a running disk onto another image of the same size, live: the guest keeps
        its device and serial (``spec.serial`` is ignored) and writes land in the new image
        from then on; the old image is closed. The new image must exist, be writable and
        have the same virtual size. A disk already on ``spec.path`` is left alone, so a
        swap repeated after a crash does not copy the disk onto itself.

        Raises:
            NotFound: when the server or the disk is unknown.
            VirtError: when the copy fails or does not finish within ``timeout`` seconds
                (the disk then stays on the old image).
        """

    @abc.abstractmethod
    def wait_guest_disk(self, server_id: str, serial: str, size: int | None, timeout: float) -> None:
        """Wait until the guest reports ``serial`` at ``size`` bytes, or gone (``None``).

        Returns at once when that is already what the guest last reported.

        Raises:
            NotFound: when the driver has no such server.
            GuestTimeout: when the guest did not report it within ``timeout`` seconds, or
                at once when the server is not running.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, not every driver holds resources
        """Let go of connections and threads; servers keep running."""

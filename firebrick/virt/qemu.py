"""The QEMU driver: one QEMU process per server, driven over QMP with ``qemu.qmp``.

A short tour
------------

Each server is a QEMU process (q35, no default devices, no display, ``-no-reboot``)
booting the small guest of ``firebrick.virt.guest`` (built into ``<state>/guest`` on the
first boot, and rebuilt when the kernel or busybox change). It has 16 PCIe root ports for
hot-plugged disks (vda…vdp), its serial console captured in ``console.log``, and its QMP
monitor on a unix socket. Everything about a server lives in ``<state>/servers/<id>/``
(see ``_machine`` for the files and ``_record`` for ``server.json``).

Threads: the public methods are synchronous, for the job runner's threads. Inside, all
QMP sessions, console readers and process watchers live on one private asyncio loop
thread (qemu.qmp's ``QMPClient`` is asyncio-native; its ``legacy`` wrapper would need a
blocking call per event). A public method submits one coroutine there and waits for it.
Operations on one server are serialised by a per-server lock; different servers proceed
in parallel.

The disk recipes (``_disks``) follow ``shared/research/qemu-guest.md``: ``blockdev-add``
of a file node and a format node, ``device_add virtio-blk-pci`` with the volume id as
serial; ``block_resize`` on the format node; ``device_del`` then *waiting* for
``DEVICE_DELETED`` (re-asking every 5 s, giving up with ``DetachTimeout``) before
``blockdev-del``; a swap as ``blockdev-mirror`` + ``job-complete``.

Accelerator: ``accel="auto"`` uses KVM only when ``/dev/kvm`` works *and* a throwaway
guest reaches ``GUEST-READY`` with it within ``kvm_probe_timeout`` (see ``_accel``);
otherwise TCG with ``-cpu max``. A TCG boot takes about 4-5 s here.

Restarts: QEMU processes outlive firebrick. :meth:`QemuHypervisor.recover` reconnects to
them by their sockets and pidfiles, re-plugs or unplugs anything a crash left half-done,
and kills QEMU processes under the state directory that no server owns. :meth:`close`
lets go without stopping the guests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from firebrick.errors import GuestTimeout, InvalidInput, NotFound, VirtError
from firebrick.virt import _disks
from firebrick.virt._accel import AccelCache, kvm_usable
from firebrick.virt._loop import LoopThread
from firebrick.virt._machine import Launch, Machine, find_pid, read_console
from firebrick.virt._processes import kill_orphans, kill_pid
from firebrick.virt._record import DiskRecord, ServerRecord
from firebrick.virt.base import AttachSpec, Hypervisor, PowerState, RecoveryReport, guest_serial
from firebrick.virt.guest.build import GuestImage, build_guest

__all__ = ["QemuHypervisor"]

log = logging.getLogger(__name__)

_SERVER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_PROBE_STOP_SECONDS = 5.0


class QemuHypervisor(Hypervisor):
    """Servers as QEMU processes under ``state_dir``; see the module docstring.

    ``accel`` is ``"auto"``, ``"kvm"`` or ``"tcg"``; with ``"auto"`` the verdict is kept
    in ``accel_cache`` (default ``<state_dir>/accel.json``; point several drivers, say one per
    test, at one file to probe once per host). ``ports`` is the number of hot-plug slots per
    server (at most 26, one per device letter).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        accel: Literal["auto", "kvm", "tcg"] = "auto",
        qemu_binary: str = "qemu-system-x86_64",
        ports: int = 16,
        boot_timeout: float = 60.0,
        kvm_probe_timeout: float = 8.0,
        accel_cache: Path | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        if not 1 <= ports <= 26:
            raise InvalidInput("ports must be between 1 and 26")
        self._root = state_dir.resolve()
        self._accel = accel
        self._binary = qemu_binary
        self._ports = ports
        self._boot_timeout = boot_timeout
        self._probe_timeout = kvm_probe_timeout
        self._accel_cache = accel_cache or self._root / "accel.json"
        self._stop_timeout = stop_timeout
        self._loop = LoopThread("firebrick-qemu")
        self._launch: Launch | None = None
        self._launch_lock = asyncio.Lock()
        self._records: dict[str, ServerRecord] = {}
        self._machines: dict[str, Machine] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    # --- servers ---------------------------------------------------------------------

    def boot(self, server_id: str, memory_mb: int, disks: Sequence[AttachSpec] = ()) -> None:
        self._loop.run(self._boot(server_id, memory_mb, tuple(disks)))

    def destroy(self, server_id: str) -> None:
        self._loop.run(self._destroy(server_id))

    def power_state(self, server_id: str) -> PowerState:
        return self._loop.run(self._power_state(server_id))

    def power_off(self, server_id: str) -> None:
        self._loop.run(self._power_off(server_id))

    def power_on(self, server_id: str) -> None:
        self._loop.run(self._power_on(server_id))

    def reboot(self, server_id: str) -> None:
        self._loop.run(self._reboot(server_id))

    def console_output(self, server_id: str, length: int | None = None) -> str:
        self._loop.run(self._check(server_id))
        lines = read_console(self._directory(server_id)).splitlines()
        if length is not None:
            lines = lines[len(lines) - length :] if length > 0 else []
        return "".join(line + "\n" for line in lines)

    def recover(self) -> RecoveryReport:
        return self._loop.run(self._recover())

    def close(self) -> None:
        """Disconnect from every QEMU and stop the loop thread; the guests keep running."""
        self._loop.run(self._disconnect_all())
        self._loop.close()

    # --- disks -----------------------------------------------------------------------

    def attach(self, server_id: str, spec: AttachSpec) -> str:
        return self._loop.run(self._attach(server_id, spec))

    def extend(self, server_id: str, serial: str, new_size: int) -> None:
        self._loop.run(self._extend(server_id, serial, new_size))

    def detach(self, server_id: str, serial: str, timeout: float = 30.0) -> None:
        self._loop.run(self._detach(server_id, serial, timeout))

    def swap(self, server_id: str, serial: str, spec: AttachSpec, timeout: float = 300.0) -> None:
        self._loop.run(self._swap(server_id, serial, spec, timeout))

    def wait_guest_disk(self, server_id: str, serial: str, size: int | None, timeout: float) -> None:
        self._loop.run(self._wait_guest_disk(server_id, serial, size, timeout))

    # --- beyond the contract: for tests and benchmarks ---------------------------------

    def run_in_guest(self, server_id: str, command: str, timeout: float = 30.0) -> str:
        """Type a shell command on the guest's console and return its output.

        Raises:
            VirtError: when the server is not running.
            GuestTimeout: when the command does not finish within ``timeout`` seconds.
        """
        return self._loop.run(self._run_in_guest(server_id, command, timeout))

    def pause(self, server_id: str) -> None:
        """Stop the guest's vCPUs (QMP ``stop``): it no longer acknowledges unplugs."""
        self._loop.run(self._qmp(server_id, "stop"))

    def unpause(self, server_id: str) -> None:
        self._loop.run(self._qmp(server_id, "cont"))

    def pid(self, server_id: str) -> int | None:
        """The QEMU process id of a running server."""
        machine = self._machines.get(server_id)
        return machine.pid if machine is not None and machine.alive else None

    # --- server coroutines -----------------------------------------------------------

    async def _boot(self, server_id: str, memory_mb: int, disks: tuple[AttachSpec, ...]) -> None:
        async with self._lock(server_id):
            record = self._load(server_id)
            if record is None:
                record = ServerRecord(server_id, memory_mb)
                for spec in disks:
                    self._new_disk(record, spec)
                self._directory(server_id).mkdir(parents=True, exist_ok=True)
                record.save(self._directory(server_id))
                self._records[server_id] = record
            await self._start(record)

    async def _destroy(self, server_id: str) -> None:
        async with self._lock(server_id):
            await self._stop(server_id)
            shutil.rmtree(self._directory(server_id), ignore_errors=True)
            self._records.pop(server_id, None)

    async def _power_state(self, server_id: str) -> PowerState:
        record = self._known(server_id)
        if self._running(server_id) is not None:
            return PowerState.RUNNING
        return PowerState.CRASHED if record.powered_on else PowerState.SHUTOFF

    async def _power_off(self, server_id: str) -> None:
        async with self._lock(server_id):
            record = self._known(server_id)
            await self._stop(server_id)
            record.powered_on = False
            record.save(self._directory(server_id))

    async def _power_on(self, server_id: str) -> None:
        async with self._lock(server_id):
            await self._start(self._known(server_id))

    async def _reboot(self, server_id: str) -> None:
        async with self._lock(server_id):
            record = self._known(server_id)
            await self._stop(server_id)
            await self._start(record)

    async def _start(self, record: ServerRecord) -> None:
        if self._running(record.server_id) is not None:
            return
        directory = self._directory(record.server_id)
        # A QEMU left running for this server (recover() not called yet) is taken over, not
        # doubled: a second one would find the images locked and leave the first orphaned.
        try:
            machine = await Machine.adopt(record, directory)
        except VirtError:
            log.warning("server %s: a QEMU that did not answer was killed", record.server_id, exc_info=True)
            machine = None
        if machine is not None:
            self._adopted(machine)
            await self._reconcile(machine, record)
        else:
            machine = await Machine.start(await self._get_launch(), record, directory, self._boot_timeout)
            self._adopted(machine)
        record.powered_on = True
        record.save(directory)

    async def _stop(self, server_id: str) -> None:
        machine = self._machines.pop(server_id, None)
        if machine is not None:
            await machine.stop(self._stop_timeout)
        elif (pid := find_pid(self._directory(server_id))) is not None:
            await kill_pid(pid)  # left running before a restart, and not recovered yet

    def _adopted(self, machine: Machine) -> None:
        """Track a live machine; forget it (and close its connections) when QEMU exits."""
        self._machines[machine.server_id] = machine

        async def forget_on_exit() -> None:
            await machine.exited.wait()
            await machine.kill()
            if self._machines.get(machine.server_id) is machine:
                log.warning("server %s: QEMU exited on its own", machine.server_id)
                del self._machines[machine.server_id]

        watcher = asyncio.create_task(forget_on_exit(), name=f"watch-{machine.server_id}")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    # --- disk coroutines -------------------------------------------------------------

    async def _attach(self, server_id: str, spec: AttachSpec) -> str:
        async with self._lock(server_id):
            record = self._known(server_id)
            if (disk := record.disk(spec.serial)) is not None:
                if disk.path != str(spec.path):
                    raise VirtError(f"disk {spec.serial} is attached to {server_id} from another file", server_id)
                return disk.device
            disk = self._new_disk(record, spec)
            record.save(self._directory(server_id))
            if (machine := self._running(server_id)) is not None:
                try:
                    await _disks.plug(machine.monitor, disk)
                except VirtError:
                    record.disks.remove(disk)
                    record.save(self._directory(server_id))
                    raise
            return disk.device

    async def _extend(self, server_id: str, serial: str, new_size: int) -> None:
        async with self._lock(server_id):
            disk = self._disk(self._known(server_id), serial)
            if (machine := self._running(server_id)) is not None:
                await _disks.resize(machine.monitor, disk, new_size)

    async def _detach(self, server_id: str, serial: str, timeout: float) -> None:
        async with self._lock(server_id):
            record = self._known(server_id)
            if (disk := record.disk(serial)) is None:
                return
            if (machine := self._running(server_id)) is not None:
                await _disks.unplug(machine.monitor, server_id, disk, timeout)
            record.disks.remove(disk)
            record.save(self._directory(server_id))

    async def _swap(self, server_id: str, serial: str, spec: AttachSpec, timeout: float) -> None:
        async with self._lock(server_id):
            record = self._known(server_id)
            old = self._disk(record, serial)
            if old.path == str(spec.path):
                return  # swapped already, by a run that ended before it could say so
            if spec.read_only:
                raise VirtError("the target of a swap must be writable", server_id)
            generation = record.next_generation()
            record.save(self._directory(server_id))
            new = dataclasses.replace(old, path=str(spec.path), format=spec.format.value, nodes=generation)
            if (machine := self._running(server_id)) is not None:
                await _disks.mirror(machine.monitor, f"swap{generation}", old, new, timeout)
            record.disks[record.disks.index(old)] = new
            record.save(self._directory(server_id))

    async def _wait_guest_disk(self, server_id: str, serial: str, size: int | None, timeout: float) -> None:
        self._known(server_id)
        machine = self._running(server_id)
        if machine is None or not await machine.console.wait_for(
            lambda: machine.console.view.has(serial, size), timeout
        ):
            wanted = f"DISK {guest_serial(serial)} {size}" if size is not None else f"DISK-GONE {serial}"
            raise GuestTimeout(server_id, wanted, timeout)

    async def _run_in_guest(self, server_id: str, command: str, timeout: float) -> str:
        self._known(server_id)
        if (machine := self._running(server_id)) is None:
            raise VirtError(f"server {server_id} is not running", server_id)
        return await machine.console.run(command, timeout)

    async def _qmp(self, server_id: str, command: str) -> None:
        self._known(server_id)
        if (machine := self._running(server_id)) is None:
            raise VirtError(f"server {server_id} is not running", server_id)
        await machine.monitor.execute(command)

    # --- recovery --------------------------------------------------------------------

    async def _recover(self) -> RecoveryReport:
        found: dict[str, list[str]] = {"running": [], "shut_off": [], "crashed": [], "killed": []}
        servers = self._root / "servers"
        for directory in sorted(servers.iterdir()) if servers.is_dir() else []:
            record = ServerRecord.load(directory)
            if record is None or record.server_id != directory.name:
                continue  # left by a destroy that did not finish: its QEMU is an orphan below
            async with self._lock(record.server_id):
                self._records[record.server_id] = record
                found[await self._recover_one(record, directory, found["killed"])].append(record.server_id)
        owned = {machine.pid for machine in self._machines.values() if machine.alive}
        found["killed"] += await kill_orphans(self._root, owned)
        return RecoveryReport(**{key: tuple(value) for key, value in found.items()})

    async def _recover_one(self, record: ServerRecord, directory: Path, killed: list[str]) -> str:
        if self._running(record.server_id) is None:
            try:
                machine = await Machine.adopt(record, directory)
            except VirtError:
                log.warning("server %s: its QEMU did not answer and was killed", record.server_id, exc_info=True)
                killed.append(record.server_id)
                machine = None
            if machine is not None:
                self._adopted(machine)
                try:
                    await self._reconcile(machine, record)
                except VirtError:  # the guest runs; a disk that cannot be plugged again shows later
                    log.warning("server %s: its disks could not be reconciled", record.server_id, exc_info=True)
        if self._running(record.server_id) is not None:
            if not record.powered_on:  # started, then firebrick stopped before saving that
                record.powered_on = True
                record.save(directory)
            return "running"
        return "crashed" if record.powered_on else "shut_off"

    async def _reconcile(self, machine: Machine, record: ServerRecord) -> None:
        disks = await _disks.reconcile(machine.monitor, record.server_id, list(record.disks))
        if disks != record.disks:
            record.disks = disks
            record.save(self._directory(record.server_id))

    async def _disconnect_all(self) -> None:
        for watcher in list(self._watchers):
            watcher.cancel()
        for machine in self._machines.values():
            await machine.disconnect()
        self._machines.clear()

    # --- helpers ---------------------------------------------------------------------

    async def _get_launch(self) -> Launch:
        async with self._launch_lock:
            if self._launch is None:
                binary = shutil.which(self._binary)
                if binary is None:
                    raise VirtError(f"{self._binary} is not installed (apt-get install qemu-system-x86)")
                loop = asyncio.get_running_loop()
                guest = await loop.run_in_executor(None, build_guest, self._root / "guest")
                accel = self._accel if self._accel != "auto" else await self._detect_accel(binary, guest)
                self._launch = Launch(binary, accel, guest, self._ports)
            return self._launch

    async def _detect_accel(self, binary: str, guest: GuestImage) -> str:
        if not kvm_usable():
            return "tcg"
        cache = AccelCache(self._accel_cache, binary)
        if (verdict := cache.get()) is None:
            verdict = await self._probe_kvm(Launch(binary, "kvm", guest, 0))
            log.info("accelerator for this host: %s", verdict)
            cache.put(verdict)
        return verdict

    async def _probe_kvm(self, launch: Launch) -> str:
        """Boot a throwaway guest with KVM: "kvm" when it gets ready in time, else "tcg"."""
        directory = self._root / "probe"
        try:
            machine = await Machine.start(launch, ServerRecord("kvm-probe", 256), directory, self._probe_timeout)
        except VirtError as exc:  # start() killed it
            log.info("KVM cannot boot the guest here (%s); using TCG", exc)
            verdict = "tcg"
        else:
            await machine.stop(_PROBE_STOP_SECONDS)
            verdict = "kvm"
        shutil.rmtree(directory, ignore_errors=True)
        return verdict

    def _lock(self, server_id: str) -> asyncio.Lock:
        return self._locks.setdefault(server_id, asyncio.Lock())

    def _directory(self, server_id: str) -> Path:
        if not _SERVER_ID.fullmatch(server_id):
            raise InvalidInput(f"server id {server_id!r} is not usable as a directory name")
        return self._root / "servers" / server_id

    def _load(self, server_id: str) -> ServerRecord | None:
        if server_id not in self._records:
            record = ServerRecord.load(self._directory(server_id))
            if record is None:
                return None
            self._records[server_id] = record
        return self._records[server_id]

    def _known(self, server_id: str) -> ServerRecord:
        if (record := self._load(server_id)) is None:
            raise NotFound("server", server_id)
        return record

    async def _check(self, server_id: str) -> None:
        self._known(server_id)

    def _running(self, server_id: str) -> Machine | None:
        machine = self._machines.get(server_id)
        return machine if machine is not None and machine.alive else None

    def _new_disk(self, record: ServerRecord, spec: AttachSpec) -> DiskRecord:
        port = record.free_port(self._ports)
        if port is None:
            raise VirtError(f"server {record.server_id} has no free slot (at most {self._ports} disks)")
        generation = record.next_generation()
        disk = DiskRecord(
            spec.serial, str(spec.path), spec.format.value, spec.read_only, port, f"disk{generation}", generation,
            spec.shared,
        )  # fmt: skip
        record.disks.append(disk)
        return disk

    @staticmethod
    def _disk(record: ServerRecord, serial: str) -> DiskRecord:
        if (disk := record.disk(serial)) is None:
            raise NotFound("disk", serial)
        return disk

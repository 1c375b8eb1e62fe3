"""Finding and stopping QEMU processes that belong to a state directory but to no server.

A QEMU started by the driver carries ``-pidfile <state>/<kind>/<name>/qemu.pid`` on its
command line, which is how it is recognised here (through ``/proc``), even when its
directory or record is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

__all__ = ["kill_orphans", "kill_pid", "qemu_processes"]

log = logging.getLogger(__name__)

_EXIT_SECONDS = 5.0


def qemu_processes(root: Path) -> dict[int, str]:
    """Pid -> name of its directory, for every process whose pidfile lies under ``root``."""
    found = {}
    prefix = str(root).rstrip("/") + "/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # exited meanwhile, or not ours to read
        pidfile = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-pidfile"), "")
        if pidfile.startswith(prefix):
            found[int(entry.name)] = Path(pidfile).parent.name
    return found


async def kill_orphans(root: Path, owned: set[int]) -> list[str]:
    """SIGKILL every QEMU under ``root`` whose pid is not in ``owned``, and wait for it.

    Returns the names of their directories.
    """
    killed = []
    for pid, name in qemu_processes(root).items():
        if pid in owned or pid == os.getpid():
            continue
        log.warning("killing QEMU %d (%s): no server owns it", pid, name)
        await kill_pid(pid)
        killed.append(name)
    return killed


async def kill_pid(pid: int) -> None:
    """SIGKILL ``pid`` and wait (up to 5 s) for it to exit; reap it when it is our child."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited = asyncio.Event()
    loop.add_reader(pidfd, exited.set)
    try:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(exited.wait(), _EXIT_SECONDS)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)

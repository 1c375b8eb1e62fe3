"""What makes a process a node's agent: the data directory's lock, and the doorbell API
workers ring when they queue a job.

A node has one agent (the process that runs jobs, beats the heart, owns the pools and the
guests). The lock is an ``flock`` on ``<data dir>/agent.lock``: the kernel drops it when
the process dies, however it dies, so a restart after ``kill -9`` takes it at once while a
second ``serve`` on the same data directory is refused. The doorbell is a unix datagram
socket beside it: a wake is one byte, lost harmlessly when nobody listens (the agent also
rescans on its own).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["AgentLock", "AgentRunning", "Doorbell", "ring"]

log = logging.getLogger(__name__)

_LOCK_NAME, _BELL_NAME = "agent.lock", "agent.sock"


class AgentRunning(Exception):  # noqa: N818 - says what was found
    """Another live process is this data directory's agent."""


class AgentLock:
    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / _LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (again: a no-op). Raises AgentRunning, naming its pid, when another process holds it."""
        if self._fd is not None:
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AgentRunning(
                f"another firebrick (pid {holder}) is already serving the data directory {self._path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class Doorbell:
    """The agent's side: calls ``on_ring`` for each wake an API worker sends."""

    def __init__(self, data_dir: Path, on_ring: Callable[[], None]) -> None:
        self._path = data_dir / _BELL_NAME
        self._on_ring = on_ring
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # left by an agent that died; the lock says no other one lives
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(self._path))
        self._thread = threading.Thread(target=self._listen, args=(sock,), name="firebrick-doorbell", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            ring(self._path.parent)  # a blocked recv is not woken by close(): one last ring is
            self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()

    def _listen(self, sock: socket.socket) -> None:
        with sock:
            while not self._stop.is_set():
                sock.recv(64)
                self._on_ring()


def ring(data_dir: Path) -> None:
    """An API worker's side: wake the agent; nobody listening is not an error."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(b"w", str(data_dir / _BELL_NAME))
        except OSError as error:
            log.debug("no agent answered the doorbell: %s", error)

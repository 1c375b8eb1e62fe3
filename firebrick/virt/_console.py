"""A guest's serial console, read without pause while the guest runs.

QEMU writes the console to our socket and to ``console.log``. Reading the socket all the
time matters: a console nobody reads fills the socket buffer and stalls the guest. Each
line goes through a ``GuestView`` (the ``DISK`` protocol) and into a short in-memory tail,
and wakes whoever waits on the console. The same socket carries keystrokes to the guest's
shell (:meth:`Console.run`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import socket
from collections.abc import Callable

from firebrick.errors import GuestTimeout
from firebrick.virt.base import GuestView

__all__ = ["Console"]

_TAIL_LINES = 2000
_MAX_LINE = 65536
_markers = itertools.count(1)


class Console:
    """The reading end of one guest's serial console (loop-thread only)."""

    def __init__(self, server_id: str, view: GuestView) -> None:
        self._server_id = server_id
        self.view = view
        self.closed = asyncio.Event()
        self._changed = asyncio.Condition()
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._seen = 0  # lines read so far: an absolute index into the stream
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._shell = asyncio.Lock()
        self._closing: asyncio.Task[None] | None = None

    async def open(self, sock: socket.socket) -> None:
        """Start reading from a connected socket."""
        self._reader, self._writer = await asyncio.open_unix_connection(sock=sock)
        self._task = asyncio.create_task(self._read(), name=f"console-{self._server_id}")

    async def close(self) -> None:
        """Stop reading and close the socket (several tasks may ask at once)."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self.closed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds after some console line, or the console closes.

        Returns whether it holds.
        """
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: predicate() or self.closed.is_set()), max(timeout, 0.0)
                )
            return predicate()

    async def run(self, command: str, timeout: float) -> str:
        """Type ``command`` into the guest's shell and return what it printed.

        The output is framed by two marker lines that the echo of the typed command cannot
        match (the markers are split by quotes there).

        Raises:
            GuestTimeout: when the end marker does not appear within ``timeout`` seconds.
        """
        assert self._writer is not None
        async with self._shell:
            n = next(_markers)
            begin, end = f"FB-BEGIN-{n}", f"FB-END-{n}"
            start = self._seen
            self._writer.write(f"echo FB-BE''GIN-{n}; {command}; echo FB-E''ND-{n}\n".encode())
            await self._writer.drain()
            if not await self.wait_for(lambda: end in self._since(start), timeout):
                raise GuestTimeout(self._server_id, f"end of `{command}`", timeout)
            lines = self._since(start)
            first = lines.index(begin) + 1 if begin in lines else 0  # a huge output pushed it out of the tail
            return "".join(line + "\n" for line in lines[first : lines.index(end)])

    def _since(self, start: int) -> list[str]:
        kept_from = self._seen - len(self._tail)
        return list(self._tail)[max(start - kept_from, 0) :]

    async def _read(self) -> None:
        assert self._reader is not None
        pending = b""
        with contextlib.suppress(OSError):  # a broken connection ends the console like EOF
            while chunk := await self._reader.read(65536):
                *lines, pending = (pending + chunk).split(b"\n")
                if len(pending) > _MAX_LINE:  # no newline for that long: take it as a line
                    lines.append(pending)
                    pending = b""
                async with self._changed:
                    for line in lines:
                        self._take(line.decode(errors="replace").rstrip("\r"))
                    self._changed.notify_all()
        async with self._changed:
            self.closed.set()
            self._changed.notify_all()

    def _take(self, line: str) -> None:
        self.view.feed(line)
        self._tail.append(line)
        self._seen += 1

"""One QMP connection, with qemu.qmp's exceptions translated into ``VirtError`` here, once.

Events are waited for with a listener registered *before* the command that causes them
(so none is missed), filtered on their ``data`` fields, under a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from qemu.qmp import EventListener, ExecInterruptedError, ExecuteError, Message, QMPClient, QMPError

from firebrick.errors import VirtError

__all__ = ["Monitor"]

_COMMAND_TIMEOUT = 30.0


class Monitor:
    """The QMP monitor of one server's QEMU."""

    def __init__(self, server_id: str) -> None:
        self._server_id = server_id
        self._qmp = QMPClient(f"firebrick-{server_id}")
        # The always-on default listener would keep every event forever; we only use
        # listeners scoped to one operation.
        self._qmp.events.event_filter = lambda _event: False
        self._closing: asyncio.Task[None] | None = None

    async def connect(self, sock: socket.socket, timeout: float) -> None:
        """Open the session over a connected socket (greeting, capabilities).

        Raises:
            VirtError: when QEMU hangs up or does not answer within ``timeout`` seconds.
        """
        try:
            await asyncio.wait_for(self._qmp.connect(sock), timeout)
        except (QMPError, OSError, TimeoutError) as exc:
            sock.close()
            raise VirtError(f"cannot reach QEMU's monitor: {exc or type(exc).__name__}", self._server_id) from exc

    async def execute(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """Run one QMP command and return its ``return`` value.

        Raises:
            VirtError: when QEMU refuses the command (``error_class`` set), the connection
                is lost, or there is no answer within 30 s.
        """
        try:
            return await asyncio.wait_for(self._qmp.execute(command, arguments), _COMMAND_TIMEOUT)
        except ExecuteError as exc:
            raise VirtError(f"{command}: {exc}", self._server_id, error_class=exc.error_class) from exc
        except (ExecInterruptedError, QMPError, OSError) as exc:
            raise VirtError(f"{command}: lost the connection to QEMU", self._server_id) from exc
        except TimeoutError as exc:
            raise VirtError(f"{command}: no answer from QEMU in {_COMMAND_TIMEOUT:g} s", self._server_id) from exc

    @contextlib.contextmanager
    def listen(self, *names: str, **data: str) -> Iterator[EventListener]:
        """Collect the events called ``names`` whose ``data`` has all the given fields."""

        def matches(event: Message) -> bool:
            fields: Any = event.get("data") or {}
            return all(fields.get(key) == value for key, value in data.items())

        with self._qmp.listener(names, matches) as listener:
            yield listener

    @staticmethod
    async def next_event(listener: EventListener, timeout: float) -> dict[str, Any] | None:
        """The next event of ``listener`` (as plain JSON), or ``None`` after ``timeout`` seconds."""
        try:
            event = await asyncio.wait_for(listener.get(), max(timeout, 0.0))
        except TimeoutError:
            return None
        return dict(event)

    async def close(self) -> None:
        """Close the session; a connection QEMU already dropped is not an error.

        Safe to call from several tasks at once: they share one disconnect (two concurrent
        ``disconnect()`` calls trip an assertion inside qemu.qmp)."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._disconnect())
        await asyncio.shield(self._closing)

    async def _disconnect(self) -> None:
        # disconnect() re-raises what ended the reader: EOFError when QEMU quit first.
        with contextlib.suppress(QMPError, OSError, EOFError):
            await self._qmp.disconnect()

"""Hearing of new jobs from other processes and hosts: PostgreSQL's LISTEN on the channel
that every job insert (and every ended wait) NOTIFYs in its own transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

import psycopg
import sqlalchemy as sa

from firebrick.db._transition import JOBS_CHANNEL

__all__ = ["JobAnnouncements"]

log = logging.getLogger(__name__)


class JobAnnouncements:
    """Calls ``on_announce`` whenever a job of one of ``owners`` is announced."""

    def __init__(self, database_url: str, owners: Collection[str], on_announce: Callable[[], None]) -> None:
        self._conninfo = sa.engine.make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self._owners = frozenset(owners)
        self._on_announce = on_announce
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen_forever, name="firebrick-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:  # the server restarting: the runner's rescans cover the gap
                log.warning("listening for jobs failed (%s); trying again", error)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {JOBS_CHANNEL}")
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=0.2):
                    if notice.payload in self._owners:
                        self._on_announce()

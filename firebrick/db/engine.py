"""Engine creation and the two ways code touches the database: read and write.

SQLite (the embedded default) gets WAL, a busy timeout and ``BEGIN IMMEDIATE``
for write transactions, so two writers queue instead of failing half-way with
"database is locked". PostgreSQL uses row locks (``FOR UPDATE``) where a write
must see a stable count, which SQLite ignores because its write lock already
covers the whole database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from firebrick import fencing
from firebrick.clock import utcnow
from firebrick.db import tables as t
from firebrick.errors import Conflict, StaleClaim

__all__ = ["ENDS_CLAIM", "Database", "utcnow"]

# Set in a connection's ``info`` by the write that lets the job being run go (finished or waiting).
ENDS_CLAIM = "firebrick_ends_claim"


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("read_only"):
            return  # each read statement runs on its own; WAL gives it a consistent view
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("immediate") else "BEGIN")

    return engine


class Database:
    """Owns the engine; repositories borrow connections from it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.is_postgresql = self.engine.dialect.name == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads only (on SQLite, without a transaction around them)."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success and rolls back on any error.

        Every write made inside a job step (see ``firebrick.fencing``) first checks, in the same
        transaction, that the step's claim still holds; on PostgreSQL the check also locks the
        job row, so a takeover waits for this transaction instead of overlapping it.

        Raises:
            Conflict: when a unique or foreign-key constraint refuses the write.
            StaleClaim: when the job step's claim was taken over.
        """
        claim = fencing.current()
        try:
            with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
                if claim is not None and not claim.ended:
                    self._check_claim(conn, claim)
                try:
                    yield conn
                finally:
                    ends_claim = conn.info.pop(ENDS_CLAIM, False)  # pooled: never left for the next user
        except exc.IntegrityError as error:
            raise Conflict(f"conflicting write: {error.orig}") from error
        if claim is not None and ends_claim:
            claim.ended = True

    def now(self, later: timedelta = timedelta()) -> sa.ColumnElement[Any]:
        """The database's clock (naive UTC, as every timestamp here), plus ``later``.

        Leases and deadlines are compared against one clock, the database's, so processes
        and hosts whose clocks or time zones differ still agree on what has expired. An
        embedded SQLite database has no other clock than this host's.
        """
        if self.is_postgresql:
            return sa.func.timezone("UTC", sa.func.now(), type_=sa.DateTime) + sa.literal(later, sa.Interval)
        return sa.literal(utcnow() + later, sa.DateTime)

    def _check_claim(self, conn: Connection, claim: fencing.Claim) -> None:
        query = sa.select(t.jobs.c.epoch).where(t.jobs.c.id == claim.job_id)
        held = conn.execute(query.with_for_update(read=True) if self.is_postgresql else query).scalar()
        if held != claim.epoch:
            raise StaleClaim(claim.job_id, claim.epoch)

    def dispose(self) -> None:
        self.engine.dispose()

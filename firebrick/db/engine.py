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
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from firebrick.clock import utcnow
from firebrick.errors import Conflict

__all__ = ["Database", "utcnow"]


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

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads only (on SQLite, without a transaction around them)."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success and rolls back on any error.

        Raises:
            Conflict: when a unique or foreign-key constraint refuses the write.
        """
        try:
            with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
                yield conn
        except exc.IntegrityError as error:
            raise Conflict(f"conflicting write: {error.orig}") from error

    def dispose(self) -> None:
        self.engine.dispose()

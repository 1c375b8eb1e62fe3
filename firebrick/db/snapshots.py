"""Snapshot rows and their metadata, mapped to ``domain.model.Snapshot``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick.db import tables as t
from firebrick.db._paging import apply_page
from firebrick.db._transition import delete_row, insert_job, transition
from firebrick.db.engine import Database, utcnow
from firebrick.db.volumes import usage
from firebrick.domain.model import Job, Message, Page, Snapshot
from firebrick.domain.ports import Usage
from firebrick.domain.volume.states import SNAPSHOT_ALLOWED, check_moves

__all__ = ["SnapshotRepository"]

_S = t.snapshots
_COLUMNS = list(_S.c)


class SnapshotRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, snapshot_id: str, project_id: str | None = None) -> Snapshot | None:
        query = sa.select(*_COLUMNS).where(_S.c.id == snapshot_id)
        if project_id is not None:
            query = query.where(_S.c.project_id == project_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
            return _to_snapshots(conn, [row])[0] if row else None

    def find(self, page: Page, project_id: str | None) -> list[Snapshot]:
        with self._db.read() as conn:
            query = sa.select(*_COLUMNS)
            if project_id is not None:
                query = query.where(_S.c.project_id == project_id)
            for key, value in page.filters.items():
                column = _S.c[key.rstrip("~")]  # "name~" asks for a LIKE match, as for volumes
                query = query.where(column.like(f"%{value}%") if key.endswith("~") else column == value)
            return _to_snapshots(conn, conn.execute(apply_page(conn, query, _S, page, "Snapshot", project_id)).all())

    def list_for_volume(self, volume_id: str) -> list[Snapshot]:
        with self._db.read() as conn:
            return _to_snapshots(conn, conn.execute(sa.select(*_COLUMNS).where(_S.c.volume_id == volume_id)).all())

    def insert(self, snapshot: Snapshot, job: Job, admit: Callable[[Usage], None]) -> None:
        with self._db.write() as conn:
            admit(usage(conn, snapshot.project_id))
            conn.execute(sa.insert(_S).values(**{c.name: getattr(snapshot, c.name) for c in _S.c}))
            _insert_metadata(conn, snapshot.id, snapshot.metadata)
            insert_job(conn, job)

    def transition(
        self,
        snapshot_id: str,
        expected: Iterable[str],
        new: str,
        job: Job | None = None,
        done_job: str | None = None,
        message: Message | None = None,
        override: bool = False,
        **fields: Any,
    ) -> bool:
        """Compare-and-set the status; enqueue ``job`` / finish ``done_job`` / record ``message`` atomically with it.

        A move the state machine does not list raises IllegalTransition, unless it is an
        admin's ``override`` (a reset of the status, a forced delete)."""
        expected = list(expected)
        if not override:
            check_moves(SNAPSHOT_ALLOWED, expected, new)
        return transition(self._db, _S, snapshot_id, expected, new, job, done_job, fields, message)

    def update(self, snapshot_id: str, **fields: Any) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_S).where(_S.c.id == snapshot_id).values(updated_at=utcnow(), **fields))

    def delete(self, snapshot_id: str, done_job: str | None = None) -> None:
        delete_row(self._db, _S, snapshot_id, done_job)

    def in_status(self, statuses: Iterable[str]) -> list[Snapshot]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(*_COLUMNS).where(_S.c.status.in_(list(statuses)))).all()
            return _to_snapshots(conn, rows)


def _insert_metadata(conn: Connection, snapshot_id: str, metadata: Mapping[str, str]) -> None:
    if metadata:
        conn.execute(
            sa.insert(t.snapshot_metadata),
            [{"snapshot_id": snapshot_id, "key": k, "value": v} for k, v in metadata.items()],
        )


def _to_snapshots(conn: Connection, rows: Iterable[Any]) -> list[Snapshot]:
    rows = list(rows)
    md = t.snapshot_metadata
    metadata: dict[str, dict[str, str]] = defaultdict(dict)
    ids = [row.id for row in rows]
    if ids:
        for sid, key, value in conn.execute(
            sa.select(md.c.snapshot_id, md.c.key, md.c.value).where(md.c.snapshot_id.in_(ids))
        ):
            metadata[sid][key] = value
    return [Snapshot(**row._mapping, metadata=metadata.get(row.id, {})) for row in rows]

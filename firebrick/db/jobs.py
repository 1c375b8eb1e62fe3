"""Durable jobs: the rows a worker resumes after a crash."""

from __future__ import annotations

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db._transition import insert_job
from firebrick.db.engine import Database
from firebrick.domain.model import Job

__all__ = ["JobRepository"]

_J = t.jobs


class JobRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, job_id: str) -> Job | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(_J).where(_J.c.id == job_id)).first()
        return _to_job(row) if row else None

    def pending(self, owner: str) -> list[Job]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_J).where(_J.c.owner == owner).order_by(_J.c.created_at)).all()
        return [_to_job(row) for row in rows]

    def for_resource(self, resource_id: str) -> list[Job]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_J).where(_J.c.resource_id == resource_id)).all()
        return [_to_job(row) for row in rows]

    def add(self, job: Job) -> None:
        """Queue a job on its own (most jobs are written with their status change instead)."""
        with self._db.write() as conn:
            insert_job(conn, job)

    def record_attempt(self, job_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_J).where(_J.c.id == job_id).values(attempt=_J.c.attempt + 1))

    def finish(self, job_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_J).where(_J.c.id == job_id))


def _to_job(row: sa.Row[tuple[object, ...]]) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=m["kind"],
        resource_id=m["resource_id"],
        owner=m["owner"],
        payload=dict(m["payload"]),
        attempt=m["attempt"],
    )

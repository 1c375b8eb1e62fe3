"""Durable jobs, claimed in the database.

A claim marks a job with its claimer, a lease (database time) and a new epoch, the fencing
token every write of the job's step checks (``Database.write``). Only the oldest job of a
resource can be claimed, so one resource's jobs run one after another. PostgreSQL claimers
skip each other's locked rows (``FOR UPDATE SKIP LOCKED``); SQLite's claim runs inside
``BEGIN IMMEDIATE``, which serialises claimers. A lease that was not renewed (its claimer
died) expires and the job is claimed again with a higher epoch, so the dead attempt's late
writes miss.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from firebrick import fencing
from firebrick.db import tables as t
from firebrick.db._transition import announce_job, delete_job, end_claim, insert_job
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
        """Every job of ``owner`` not finished yet: running, waiting or queued."""
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

    def claim(self, claimer: str, owners: Collection[str], limit: int, lease: float) -> list[Job]:
        """Claim up to ``limit`` due jobs of ``owners``, oldest first, for ``lease`` seconds."""
        with self._db.write() as conn:
            ids = conn.execute(self._claimable(owners, limit)).scalars().all()
            if not ids:
                return []
            conn.execute(
                sa.update(_J)
                .where(_J.c.id.in_(ids))
                .values(
                    claimed_by=claimer, lease_until=self._db.now(timedelta(seconds=lease)), epoch=_J.c.epoch + 1,
                    due_at=None,  # from here on, a due_at is a callback's: see make_due
                )  # fmt: skip
            )
            rows = conn.execute(sa.select(_J).where(_J.c.id.in_(ids)).order_by(_J.c.created_at, _J.c.id)).all()
        return [_to_job(row) for row in rows]

    def _claimable(self, owners: Collection[str], limit: int) -> sa.Select[tuple[str]]:
        older = _J.alias("older")
        now = self._db.now()
        query = (
            sa.select(_J.c.id)
            .where(
                _J.c.owner.in_(list(owners)),
                sa.or_(_J.c.due_at.is_(None), _J.c.due_at <= now),
                sa.or_(_J.c.lease_until.is_(None), _J.c.lease_until < now),
                ~sa.exists().where(
                    older.c.resource_id == _J.c.resource_id,
                    sa.or_(
                        older.c.created_at < _J.c.created_at,
                        sa.and_(older.c.created_at == _J.c.created_at, older.c.id < _J.c.id),
                    ),
                ),
            )
            .order_by(_J.c.created_at, _J.c.id)
            .limit(limit)
        )
        return query.with_for_update(skip_locked=True, of=_J) if self._db.is_postgresql else query

    def renew(self, claimer: str, held: Mapping[str, int], lease: float) -> set[str]:
        """Extend the leases of the jobs ``claimer`` holds (id -> epoch); returns those still held."""
        if not held:
            return set()
        with self._db.write() as conn:
            kept = set(
                conn.execute(
                    sa.update(_J)
                    .where(_J.c.id.in_(list(held)), _J.c.claimed_by == claimer)
                    .values(lease_until=self._db.now(timedelta(seconds=lease)))
                    .returning(_J.c.id, _J.c.epoch)
                ).all()
            )
        return {job_id for job_id, epoch in kept if held[job_id] == epoch}

    def release(self, job: Job, retry_in: float = 0.0, failed: bool = False) -> None:
        """Let the job be claimed again (after ``retry_in`` seconds); ``failed`` counts an attempt."""
        due = self._db.now(_seconds(retry_in)) if retry_in else None
        values: dict[str, Any] = {"claimed_by": None, "lease_until": None, "due_at": due}
        if failed:
            values["attempt"] = _J.c.attempt + 1
        with self._db.write() as conn:
            conn.execute(sa.update(_J).where(_J.c.id == job.id, _J.c.epoch == job.epoch).values(**values))
            end_claim(conn, job.id)

    def wait(self, job: Job, seconds: float, **payload: Any) -> None:
        """The job waits (no thread holds it) until a callback makes it due, or ``seconds`` pass.

        Raises:
            StaleClaim: the job was finished or taken over meanwhile (a callback already ended it).
        """
        # A callback that came while the step ran (make_due) already made the job due: it stays due.
        due = sa.case((_J.c.due_at.is_(None), self._db.now(_seconds(seconds))), else_=_J.c.due_at)
        values = {"claimed_by": None, "lease_until": None, "due_at": due}
        with self._db.write() as conn:
            conn.execute(
                sa.update(_J)
                .where(_J.c.id == job.id)
                .values(payload={**job.payload, **payload}, **values)
            )
            end_claim(conn, job.id)

    def make_due(self, job_id: str) -> None:
        """A callback ends a job's wait: it runs again at once (after its current step, if one runs)."""
        with self._db.write() as conn:
            owner = conn.execute(
                sa.update(_J).where(_J.c.id == job_id).values(due_at=self._db.now()).returning(_J.c.owner)
            ).scalar()
            if owner is not None:
                announce_job(conn, owner)

    def seconds_to_next_due(self, owners: Collection[str]) -> float | None:
        """How long until the next waiting job or expiring lease of ``owners`` (database time)."""
        now = self._db.now()
        mine = _J.c.owner.in_(list(owners))
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(
                    now,
                    sa.select(sa.func.min(_J.c.due_at)).where(mine, _J.c.due_at > now).scalar_subquery(),
                    sa.select(sa.func.min(_J.c.lease_until)).where(mine, _J.c.lease_until > now).scalar_subquery(),
                )
            ).one()
        at, times = row[0], [time for time in row[1:] if time is not None]
        return (min(times) - at).total_seconds() if times else None

    def finish(self, job_id: str) -> None:
        with self._db.write() as conn:
            delete_job(conn, job_id)

    @contextmanager
    def holding(self, job: Job) -> Iterator[fencing.Claim]:
        """Run a step under the job's claim: every write it makes checks the epoch."""
        with fencing.holding(job.id, job.epoch) as claim:
            yield claim


def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _to_job(row: sa.Row[tuple[object, ...]]) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=m["kind"],
        resource_id=m["resource_id"],
        owner=m["owner"],
        payload=dict(m["payload"]),
        attempt=m["attempt"],
        epoch=m["epoch"],
    )

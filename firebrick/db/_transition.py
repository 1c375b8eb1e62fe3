"""The one writer of ``status``: a compare-and-set, optionally with a job."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick import fencing
from firebrick.db import tables as t
from firebrick.db.engine import ENDS_CLAIM, Database, utcnow
from firebrick.domain.model import Job, Message

__all__ = [
    "JOBS_CHANNEL",
    "announce_job",
    "compare_and_set",
    "delete_job",
    "delete_row",
    "end_claim",
    "insert_job",
    "insert_message",
    "settle_jobs",
    "transition",
]

# PostgreSQL's LISTEN/NOTIFY channel on which a new or newly due job is announced (payload: its owner).
JOBS_CHANNEL = "firebrick_jobs"


def compare_and_set(
    conn: Connection,
    table: sa.Table,
    resource_id: str,
    expected: Iterable[str],
    new: str,
    fields: dict[str, Any],
) -> bool:
    """Set ``status`` to ``new`` only if it is one of ``expected``; True if it was."""
    result = conn.execute(
        sa.update(table)
        .where(table.c.id == resource_id, table.c.status.in_(list(expected)))
        .values(status=new, updated_at=utcnow(), **fields)
    )
    return result.rowcount == 1


def insert_job(conn: Connection, job: Job) -> None:
    conn.execute(
        sa.insert(t.jobs).values(
            id=job.id,
            kind=job.kind,
            resource_id=job.resource_id,
            owner=job.owner,
            payload=job.payload,
            attempt=job.attempt,
            created_at=utcnow(),
        )
    )
    announce_job(conn, job.owner)


def announce_job(conn: Connection, owner: str) -> None:
    """Wake the owner's agents, wherever they run, when this transaction commits (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(JOBS_CHANNEL, owner)))


def delete_job(conn: Connection, job_id: str) -> None:
    """Remove a finished job's row; when it is the job this thread runs, its claim ends with the commit."""
    conn.execute(sa.delete(t.jobs).where(t.jobs.c.id == job_id))
    end_claim(conn, job_id)


def end_claim(conn: Connection, job_id: str) -> None:
    """When ``job_id`` is the job this thread runs, its claim ends as this transaction commits."""
    claim = fencing.current()
    if claim is not None and claim.job_id == job_id:
        conn.info[ENDS_CLAIM] = True


def insert_message(conn: Connection, message: Message) -> None:
    conn.execute(sa.insert(t.messages).values(**dataclasses.asdict(message)))


def transition(
    db: Database,
    table: sa.Table,
    resource_id: str,
    expected: Iterable[str],
    new: str,
    job: Job | None,
    done_job: str | None,
    fields: dict[str, Any],
    message: Message | None = None,
) -> bool:
    """Compare-and-set the status; enqueue ``job``, finish ``done_job`` and record
    ``message`` (why it failed) in the same transaction, so a reader who sees the
    status also sees the message."""
    with db.write() as conn:
        if not compare_and_set(conn, table, resource_id, expected, new, fields):
            return False
        settle_jobs(conn, job, done_job)
        if message is not None:
            insert_message(conn, message)
        return True


def settle_jobs(conn: Connection, job: Job | None, done_job: str | None) -> None:
    """Queue the job a status change starts and finish the one it ends, in the caller's transaction."""
    if job is not None:
        insert_job(conn, job)
    if done_job is not None:
        delete_job(conn, done_job)


def delete_row(db: Database, table: sa.Table, resource_id: str, done_job: str | None) -> None:
    """Remove a resource's row, and finish its job in the same transaction."""
    with db.write() as conn:
        conn.execute(sa.delete(table).where(table.c.id == resource_id))
        settle_jobs(conn, None, done_job)

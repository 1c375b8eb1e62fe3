"""Per-project quota limits that differ from the configured defaults."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db.engine import Database
from firebrick.db.volumes import usage
from firebrick.domain.ports import Usage

__all__ = ["QuotaRepository"]

_Q = t.quotas


class QuotaRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def overrides(self, project_id: str) -> dict[str, int]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_Q.c.resource, _Q.c.hard_limit).where(_Q.c.project_id == project_id))
            return {resource: int(limit) for resource, limit in rows}

    def usage(self, project_id: str) -> Usage:
        with self._db.read() as conn:
            return usage(conn, project_id)

    def set(self, project_id: str, limits: Mapping[str, int]) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_Q).where(_Q.c.project_id == project_id, _Q.c.resource.in_(list(limits))))
            if limits:
                conn.execute(
                    sa.insert(_Q),
                    [{"project_id": project_id, "resource": k, "hard_limit": v} for k, v in limits.items()],
                )

    def reset(self, project_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_Q).where(_Q.c.project_id == project_id))

"""Registered services and their heartbeats."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import Service

__all__ = ["ServiceRepository"]

_S = t.services


class ServiceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def heartbeat(self, host: str, binary: str, zone: str) -> None:
        """Record that ``host``/``binary`` is alive, registering it on first call."""
        with self._db.write() as conn:
            key = (_S.c.host == host, _S.c.binary == binary)
            updated = conn.execute(sa.update(_S).where(*key).values(updated_at=utcnow(), zone=zone))
            if updated.rowcount == 0:
                conn.execute(
                    sa.insert(_S).values(host=host, binary=binary, zone=zone, disabled=False, updated_at=utcnow())
                )

    def find(self, host: str | None = None, binary: str | None = None) -> list[Service]:
        query = sa.select(_S).order_by(_S.c.binary, _S.c.host)
        if host is not None:
            # As Cinder filters: "vm" names the host itself and its backends "vm@file".
            query = query.where(sa.or_(_S.c.host == host, _S.c.host.startswith(host + "@", autoescape=True)))
        if binary is not None:
            query = query.where(_S.c.binary == binary)
        with self._db.read() as conn:
            return [Service(**row._mapping) for row in conn.execute(query)]

    def set_disabled(self, host: str, binary: str, disabled: bool, reason: str | None) -> bool:
        values: dict[str, Any] = {"disabled": disabled, "disabled_reason": reason}
        with self._db.write() as conn:
            return (
                conn.execute(sa.update(_S).where(_S.c.host == host, _S.c.binary == binary).values(**values)).rowcount
                > 0
            )

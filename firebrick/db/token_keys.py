"""The token signing keys every process shares (the domain's ``TokenKeys`` port)."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy import exc

from firebrick.db import tables as t
from firebrick.db.engine import Database
from firebrick.domain.identity.tokens import TokenKey
from firebrick.errors import Conflict

__all__ = ["TokenKeyRepository"]

_K = t.token_keys


class TokenKeyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[TokenKey]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_K).order_by(_K.c.kid))
            return [TokenKey(row.kid, bytes(row.secret), row.created_at) for row in rows]

    def add(self, key: TokenKey) -> bool:
        """Insert-if-absent by primary key: of processes adding the same kid at once, one wins."""
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(_K).values(kid=key.kid, secret=key.secret, created_at=key.created_at))
        except Conflict:
            return False
        except exc.StatementError as error:
            error.hide_parameters = True  # its message would quote the secret into the log
            raise
        return True

    def remove(self, kids: Collection[int]) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_K).where(_K.c.kid.in_(list(kids))))

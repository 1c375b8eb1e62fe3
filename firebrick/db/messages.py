"""User messages: asynchronous failures told to the project that owns the resource."""

from __future__ import annotations

import sqlalchemy as sa

from firebrick.clock import utcnow
from firebrick.db import tables as t
from firebrick.db._transition import insert_message
from firebrick.db.engine import Database
from firebrick.domain.model import Message

__all__ = ["MessageRepository"]

_M = t.messages


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, message: Message) -> None:
        with self._db.write() as conn:
            insert_message(conn, message)

    def get(self, message_id: str, project_id: str | None) -> Message | None:
        query = sa.select(_M).where(_M.c.id == message_id, _M.c.expires_at > utcnow())
        if project_id is not None:
            query = query.where(_M.c.project_id == project_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return Message(**row._mapping) if row else None

    def find(self, project_id: str | None, resource_uuid: str | None = None) -> list[Message]:
        query = sa.select(_M).where(_M.c.expires_at > utcnow()).order_by(_M.c.created_at.desc(), _M.c.id)
        if project_id is not None:
            query = query.where(_M.c.project_id == project_id)
        if resource_uuid is not None:
            query = query.where(_M.c.resource_uuid == resource_uuid)
        with self._db.read() as conn:
            return [Message(**row._mapping) for row in conn.execute(query)]

    def delete(self, message_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_M).where(_M.c.id == message_id))

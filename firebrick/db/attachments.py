"""Attachment rows, and the volume status changes that go with them.

Every change here touches an attachment and its volume in one transaction: a
reader never sees a volume ``in-use`` without the attachment that makes it so,
nor an attachment of a volume that went back to ``available`` (Cinder bug
#1937084 came from doing these in two steps).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick.db import tables as t
from firebrick.db._paging import apply_page
from firebrick.db._transition import compare_and_set
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import Attachment, Page

__all__ = ["AttachmentRepository", "Settle", "attachments_of"]

_A = t.volume_attachments
_V = t.volumes
_FIELDS = [f.name for f in dataclasses.fields(Attachment)]
_SELECT = sa.select(*(_A.c[name] for name in _FIELDS))

# Given the volume's (status, migration_status) and the attachments left, the
# volume's new (status, attach_status): the domain's rule, applied under the lock.
Settle = Callable[[str, str | None, tuple[Attachment, ...]], tuple[str, str]]


def attachments_of(conn: Connection, volume_ids: list[str]) -> dict[str, tuple[Attachment, ...]]:
    """The attachments of the given volumes, oldest first, one tuple per volume that has any."""
    if not volume_ids:
        return {}
    grouped: dict[str, list[Attachment]] = defaultdict(list)
    rows = conn.execute(_SELECT.where(_A.c.volume_id.in_(volume_ids)).order_by(_A.c.created_at, _A.c.id)).all()
    for row in rows:
        grouped[row.volume_id].append(Attachment(*row))
    return {volume_id: tuple(found) for volume_id, found in grouped.items()}


class AttachmentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, attachment_id: str, project_id: str | None = None) -> Attachment | None:
        query = _SELECT.where(_A.c.id == attachment_id)
        if project_id is not None:
            owned = sa.select(_V.c.id).where(_V.c.id == _A.c.volume_id, _V.c.project_id == project_id)
            query = query.where(owned.exists())
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return Attachment(*row) if row else None

    def find(self, page: Page, project_id: str | None) -> list[Attachment]:
        query = _SELECT.select_from(_A.join(_V, _V.c.id == _A.c.volume_id))
        if project_id is not None:
            query = query.where(_V.c.project_id == project_id)
        for key, value in page.filters.items():
            column = _A.c[key.rstrip("~")]
            query = query.where(column.like(f"%{value}%") if key.endswith("~") else column == value)
        with self._db.read() as conn:
            rows = conn.execute(apply_page(conn, query, _A, page, "VolumeAttachment")).all()
        return [Attachment(*row) for row in rows]

    def reserve(self, attachment: Attachment, expected: Iterable[str], new_status: str, **volume: Any) -> bool:
        """Move the volume from ``expected`` to ``new_status`` and add the attachment, or do neither."""
        with self._db.write() as conn:
            if not compare_and_set(conn, _V, attachment.volume_id, expected, new_status, volume):
                return False
            conn.execute(sa.insert(_A).values(**dataclasses.asdict(attachment)))
            return True

    def update(
        self,
        attachment_id: str,
        fields: Mapping[str, Any],
        volume_moves: tuple[Iterable[str], str] | None = None,
        **volume: Any,
    ) -> bool:
        """Change an attachment; with ``volume_moves`` (expected, new) its volume's status moves too, or nothing does.

        Returns False when the attachment is gone or the volume was not in an expected status.
        """
        with self._db.write() as conn:
            row = conn.execute(sa.select(_A.c.volume_id).where(_A.c.id == attachment_id)).first()
            if row is None:
                return False
            if volume_moves is not None:
                expected, new = volume_moves
                if not compare_and_set(conn, _V, row.volume_id, expected, new, volume):
                    return False
            conn.execute(sa.update(_A).where(_A.c.id == attachment_id).values(updated_at=utcnow(), **fields))
            return True

    def remove(self, attachment_ids: Iterable[str], volume_id: str, settle: Settle) -> tuple[Attachment, ...] | None:
        """Delete attachments of a volume and give the volume the status ``settle`` picks for what is left.

        Returns the attachments left, or None when the volume is gone.
        """
        with self._db.write() as conn:
            lookup = sa.select(_V.c.status, _V.c.migration_status).where(_V.c.id == volume_id)
            if conn.dialect.name != "sqlite":
                lookup = lookup.with_for_update()  # SQLite's write transaction already holds the lock
            volume = conn.execute(lookup).first()
            if volume is None:
                return None
            ids = list(attachment_ids)
            conn.execute(sa.delete(_A).where(_A.c.volume_id == volume_id, _A.c.id.in_(ids)))
            left = attachments_of(conn, [volume_id]).get(volume_id, ())
            status, attach_status = settle(volume.status, volume.migration_status, left)
            compare_and_set(conn, _V, volume_id, {volume.status}, status, {"attach_status": attach_status})
            return left

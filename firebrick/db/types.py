"""Volume types and their extra specs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick.db import tables as t
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import VolumeType

__all__ = ["TypeRepository"]

_T = t.volume_types
_X = t.volume_type_extra_specs


class TypeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, type_id: str) -> VolumeType | None:
        return self._one(_T.c.id == type_id)

    def get_by_name(self, name: str) -> VolumeType | None:
        return self._one(_T.c.name == name)

    def all(self, public_only: bool = False) -> list[VolumeType]:
        query = sa.select(_T).order_by(_T.c.created_at.desc(), _T.c.name)
        if public_only:
            query = query.where(_T.c.is_public.is_(True))
        with self._db.read() as conn:
            return _to_types(conn, conn.execute(query).all())

    def insert(self, volume_type: VolumeType) -> None:
        with self._db.write() as conn:
            conn.execute(
                sa.insert(_T).values(
                    id=volume_type.id,
                    name=volume_type.name,
                    description=volume_type.description,
                    is_public=volume_type.is_public,
                    created_at=utcnow(),
                )
            )
            _set_specs(conn, volume_type.id, volume_type.extra_specs)

    def update(self, type_id: str, **fields: Any) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_T).where(_T.c.id == type_id).values(**fields))

    def delete(self, type_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_X).where(_X.c.type_id == type_id))
            conn.execute(sa.delete(_T).where(_T.c.id == type_id))

    def in_use(self, type_id: str) -> bool:
        query = sa.select(t.volumes.c.id).where(t.volumes.c.volume_type_id == type_id).limit(1)
        with self._db.read() as conn:
            return conn.execute(query).first() is not None

    def set_extra_specs(self, type_id: str, specs: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_X).where(_X.c.type_id == type_id, _X.c.key.in_(list(specs))))
            _set_specs(conn, type_id, specs)

    def delete_extra_spec(self, type_id: str, key: str) -> bool:
        with self._db.write() as conn:
            return conn.execute(sa.delete(_X).where(_X.c.type_id == type_id, _X.c.key == key)).rowcount == 1

    def _one(self, clause: sa.ColumnElement[bool]) -> VolumeType | None:
        with self._db.read() as conn:
            found = _to_types(conn, conn.execute(sa.select(_T).where(clause)).all())
            return found[0] if found else None


def _set_specs(conn: Connection, type_id: str, specs: Mapping[str, str]) -> None:
    if specs:
        conn.execute(sa.insert(_X), [{"type_id": type_id, "key": k, "value": v} for k, v in specs.items()])


def _to_types(conn: Connection, rows: Sequence[Any]) -> list[VolumeType]:
    specs: dict[str, dict[str, str]] = defaultdict(dict)
    ids = [row.id for row in rows]
    if ids:
        for type_id, key, value in conn.execute(sa.select(_X).where(_X.c.type_id.in_(ids))):
            specs[type_id][key] = value
    return [
        VolumeType(id=r.id, name=r.name, description=r.description, is_public=r.is_public, extra_specs=specs[r.id])
        for r in rows
    ]

"""Image rows, their custom properties and tags, mapped to ``domain.model.Image``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick.db import tables as t
from firebrick.db._paging import apply_page
from firebrick.db._transition import compare_and_set, settle_jobs
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import Image, Job, Page

__all__ = ["ImageRepository", "Reach"]

_I = t.images
_P = t.image_properties
_T = t.image_tags
_COLUMNS = list(_I.c)

# Who may see what, as the domain decides it: any of these (visibilities, owner) pairs
# lets an image through; None in a pair means "any".
Reach = Sequence[tuple[frozenset[str] | None, str | None]]


class _Undo(Exception):
    """Raised inside a transaction to roll it back."""


class ImageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, image_id: str) -> Image | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(*_COLUMNS).where(_I.c.id == image_id)).first()
            return _to_images(conn, [row])[0] if row else None

    def find(self, page: Page, reach: Reach | None) -> list[Image]:
        """Images in ``reach`` (every image when None) that match the page's filters.

        Filters: ``tag`` (every tag given), ``size_min``/``size_max``, ``id`` (a list),
        and any column by equality.
        """
        query = sa.select(*_COLUMNS)
        if reach is not None:
            query = query.where(_reach(reach))
        for key, value in page.filters.items():
            query = query.where(_filter(key, value))
        with self._db.read() as conn:
            rows = conn.execute(apply_page(conn, query, _I, page, "Image")).all()
            return _to_images(conn, rows)

    def insert(self, image: Image) -> None:
        with self._db.write() as conn:
            _insert(conn, image)

    def insert_with_volume_move(
        self,
        image: Image,
        volume_id: str,
        expected: Iterable[str],
        new: str,
        job: Job,
        **volume_fields: Any,
    ) -> bool:
        """Insert an image and compare-and-set a volume's status, queueing ``job``: all or nothing.

        Returns False (and writes nothing) when the volume's status is not one of ``expected``.
        """
        try:
            with self._db.write() as conn:
                if not compare_and_set(conn, t.volumes, volume_id, expected, new, volume_fields):
                    raise _Undo
                _insert(conn, image)
                settle_jobs(conn, job, None)
                return True
        except _Undo:
            return False

    def transition(self, image_id: str, expected: Iterable[str], new: str, **fields: Any) -> bool:
        """Compare-and-set the status (with ``fields``); True when the image was in ``expected``."""
        with self._db.write() as conn:
            return compare_and_set(conn, _I, image_id, expected, new, fields)

    def update(
        self,
        image_id: str,
        fields: Mapping[str, Any],
        set_properties: Mapping[str, str],
        remove_properties: Iterable[str],
        tags: Iterable[str] | None,
    ) -> None:
        """Change columns, custom properties and (when given) the whole tag set, in one transaction."""
        removed = list(remove_properties)
        with self._db.write() as conn:
            conn.execute(sa.update(_I).where(_I.c.id == image_id).values(updated_at=utcnow(), **fields))
            stale = [*removed, *set_properties]
            if stale:
                conn.execute(sa.delete(_P).where(_P.c.image_id == image_id, _P.c.key.in_(stale)))
            _insert_properties(conn, image_id, set_properties)
            if tags is not None:
                conn.execute(sa.delete(_T).where(_T.c.image_id == image_id))
                _insert_tags(conn, image_id, tags)

    def delete(self, image_id: str, only_in: Iterable[str] | None = None) -> bool:
        """Remove an image's row (properties and tags go with it), when its status is one of
        ``only_in`` if given; False when nothing was removed."""
        query = sa.delete(_I).where(_I.c.id == image_id)
        if only_in is not None:
            query = query.where(_I.c.status.in_(list(only_in)))
        with self._db.write() as conn:
            return conn.execute(query).rowcount == 1

    def in_status(self, statuses: Iterable[str], node: str) -> list[Image]:
        """Images of ``node`` in one of ``statuses``."""
        query = sa.select(*_COLUMNS).where(_I.c.status.in_(list(statuses)), _I.c.node == node)
        with self._db.read() as conn:
            return _to_images(conn, conn.execute(query).all())


def _reach(reach: Reach) -> sa.ColumnElement[bool]:
    clauses = []
    for visibilities, owner in reach:
        parts: list[sa.ColumnElement[bool]] = []
        if visibilities is not None:
            parts.append(_I.c.visibility.in_(sorted(visibilities)))
        if owner is not None:
            parts.append(_I.c.owner == owner)
        clauses.append(sa.and_(sa.true(), *parts))
    return sa.or_(sa.false(), *clauses)


def _filter(key: str, value: Any) -> sa.ColumnElement[bool]:
    if key == "tag":
        return sa.and_(*(sa.exists().where(_T.c.image_id == _I.c.id, _T.c.tag == tag) for tag in value))
    column: sa.Column[Any] = _I.c[key.removesuffix("_min").removesuffix("_max")]
    if key == "size_min":
        return column >= int(value)
    if key == "size_max":
        return column <= int(value)
    if key == "id":
        return column.in_(list(value))
    equal: sa.ColumnElement[bool] = column == value
    return equal


def _insert(conn: Connection, image: Image) -> None:
    conn.execute(sa.insert(_I).values(**{c.name: getattr(image, c.name) for c in _COLUMNS}))
    _insert_properties(conn, image.id, image.properties)
    _insert_tags(conn, image.id, image.tags)


def _insert_properties(conn: Connection, image_id: str, properties: Mapping[str, str]) -> None:
    if properties:
        conn.execute(sa.insert(_P), [{"image_id": image_id, "key": k, "value": v} for k, v in properties.items()])


def _insert_tags(conn: Connection, image_id: str, tags: Iterable[str]) -> None:
    unique = sorted(set(tags))
    if unique:
        conn.execute(sa.insert(_T), [{"image_id": image_id, "tag": tag} for tag in unique])


def _to_images(conn: Connection, rows: Iterable[Any]) -> list[Image]:
    rows = list(rows)
    ids = [row.id for row in rows]
    properties: dict[str, dict[str, str]] = defaultdict(dict)
    tags: dict[str, list[str]] = defaultdict(list)
    if ids:
        for image_id, key, value in conn.execute(sa.select(_P).where(_P.c.image_id.in_(ids))):
            properties[image_id][key] = value
        for image_id, tag in conn.execute(sa.select(_T).where(_T.c.image_id.in_(ids)).order_by(_T.c.tag)):
            tags[image_id].append(tag)
    return [Image(**row._mapping, tags=tuple(tags[row.id]), properties=properties.get(row.id, {})) for row in rows]

"""Filters, sort keys and marker pagination for listing queries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from firebrick.domain.model import Page
from firebrick.errors import NotFound

__all__ = ["apply_page"]


def apply_page(
    conn: sa.engine.Connection,
    query: sa.Select[Any],
    table: sa.Table,
    page: Page,
    kind: str,
    project_id: str | None = None,
) -> sa.Select[Any]:
    """Order ``query`` by the page's sort keys and cut its window.

    Raises:
        NotFound: when the marker names no row (Cinder answers 404 then), or a
            row outside ``project_id`` when one is given (as for any lookup).
    """
    columns = [(table.c[key], direction) for key, direction in page.sort]
    if page.marker is not None:
        lookup = sa.select(table).where(table.c.id == page.marker)
        if project_id is not None:
            lookup = lookup.where(table.c.project_id == project_id)
        marker = conn.execute(lookup).first()
        if marker is None:
            raise NotFound(kind, page.marker)
        query = query.where(_after(columns, marker._mapping))
    # NULLs sort lowest, as on MySQL (Cinder's usual database), on SQLite and PostgreSQL alike.
    query = query.order_by(*(col.desc().nulls_last() if d == "desc" else col.asc().nulls_first() for col, d in columns))
    if page.offset:
        query = query.offset(page.offset)
    if page.limit is not None:
        query = query.limit(page.limit)
    return query


def _after(columns: list[tuple[sa.Column[Any], str]], marker: Any) -> sa.ColumnElement[bool]:
    # Rows strictly after the marker in the sort order: (k1 > m1) or (k1 = m1 and k2 > m2) ...
    # A NULL key (an unnamed volume, say) sorts below every value, so comparisons spell it out.
    clauses = []
    for index, (column, direction) in enumerate(columns):
        value = marker[column.name]
        beyond: sa.ColumnElement[bool]
        if value is None:
            beyond = column.is_not(None) if direction == "asc" else sa.false()
        else:
            beyond = column > value if direction == "asc" else sa.or_(column < value, column.is_(None))
        equal_before = [c.is_(None) if marker[c.name] is None else c == marker[c.name] for c, _ in columns[:index]]
        clauses.append(sa.and_(*equal_before, beyond))
    return sa.or_(*clauses)

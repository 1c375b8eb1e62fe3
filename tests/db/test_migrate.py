"""Alembic builds the schema, and the models and migrations agree."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from firebrick.db import upgrade
from firebrick.db.tables import metadata
from tests.conftest import database_url


def test_upgrade_head_matches_the_tables_module(tmp_path: Path) -> None:
    urls = database_url(tmp_path)
    url = next(urls)
    try:
        upgrade(url)
        upgrade(url)  # a second upgrade is a no-op
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(sa.inspect(conn).get_table_names())
        engine.dispose()
    finally:
        next(urls, None)
    assert diff == []
    assert {"volumes", "snapshots", "jobs", "users", "quotas", "services"} <= tables

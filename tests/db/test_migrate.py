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


def test_widening_migration_status_keeps_the_rows_that_refer_to_volumes(tmp_path: Path) -> None:
    # 0011 rebuilds ``volumes`` on SQLite; metadata and attachments cascade from it if foreign keys were on.
    urls = database_url(tmp_path)
    url = next(urls)
    try:
        upgrade(url, "0010")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO volume_types (id, name, is_public, created_at) VALUES ('t', 'x', true, '2026-01-01')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO volumes (id, project_id, user_id, size, status, attach_status, volume_type_id, "
                    "availability_zone, bootable, multiattach, created_at) VALUES ('v', 'p', 'u', 1, 'in-use', "
                    "'attached', 't', 'nova', false, false, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(sa.text("INSERT INTO volume_metadata (volume_id, key, value) VALUES ('v', 'k', 'x')"))
            conn.execute(
                sa.text(
                    "INSERT INTO volume_attachments (id, volume_id, attach_status, created_at) "
                    "VALUES ('a', 'v', 'attached', '2026-01-01 00:00:00')"
                )
            )
        upgrade(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE volumes SET migration_status = 'target:{'x' * 36}' WHERE id = 'v'"))
            counts = [conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in (
                "volumes", "volume_metadata", "volume_attachments")]  # fmt: skip
        engine.dispose()
    finally:
        next(urls, None)
    assert counts == [1, 1, 1]

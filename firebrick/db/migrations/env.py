"""Alembic environment: runs migrations online against the configured URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from firebrick.db.tables import metadata

config = context.config
engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()

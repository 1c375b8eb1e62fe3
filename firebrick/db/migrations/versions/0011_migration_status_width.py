"""migration_status as wide as Cinder's: a migration's destination row holds ``target:<source id>``

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# On SQLite this rebuilds ``volumes`` (batch mode). Migrations run on a connection of their own
# without ``PRAGMA foreign_keys``, so dropping the old table cascades to none of the rows that
# refer to it (metadata, attachments, snapshots): tests/db/test_migrate.py checks they survive.
def upgrade() -> None:
    with op.batch_alter_table("volumes") as batch:
        batch.alter_column(
            "migration_status", type_=sa.String(255), existing_type=sa.String(32), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("volumes") as batch:
        batch.alter_column(
            "migration_status", type_=sa.String(32), existing_type=sa.String(255), existing_nullable=True
        )

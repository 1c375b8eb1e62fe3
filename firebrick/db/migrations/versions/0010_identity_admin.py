"""Identity administration: project tags, the attributes Keystone keeps for clients, role
descriptions, and the instant before which a user's tokens are void

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# Columns are only added (SQLite's own ALTER TABLE ADD COLUMN, no table rebuild): rebuilding
# ``users`` or ``projects`` would mean dropping a table that role assignments cascade from.
def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("tokens_valid_after", sa.DateTime(), nullable=True))
    with op.batch_alter_table("roles") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=False, server_default="{}"))
    op.create_index("ix_role_assignments_project_id", "role_assignments", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_role_assignments_project_id", table_name="role_assignments")
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("extra")
        batch.drop_column("description")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("tokens_valid_after")
        batch.drop_column("extra")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("extra")
        batch.drop_column("tags")

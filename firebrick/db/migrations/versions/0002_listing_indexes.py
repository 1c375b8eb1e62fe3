"""Composite indexes for listing a project's volumes and counting its usage

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_volumes_project_created", "volumes", ["project_id", "created_at", "id"])
    op.create_index("ix_volumes_project_type_size", "volumes", ["project_id", "volume_type_id", "size"])
    op.create_index("ix_snapshots_project_created", "snapshots", ["project_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_project_created", table_name="snapshots")
    op.drop_index("ix_volumes_project_type_size", table_name="volumes")
    op.drop_index("ix_volumes_project_created", table_name="volumes")

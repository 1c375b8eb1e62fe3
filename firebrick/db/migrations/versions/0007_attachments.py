"""Volume attachments, the multiattach flag and the status an action returns to

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volumes") as batch:
        batch.add_column(sa.Column("multiattach", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("previous_status", sa.String(32), nullable=True))
    op.create_table(
        "volume_attachments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("volume_id", sa.String(36), sa.ForeignKey("volumes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("attach_status", sa.String(32), nullable=False),
        sa.Column("instance_uuid", sa.String(36), nullable=True),
        sa.Column("attached_host", sa.String(255), nullable=True),
        sa.Column("mountpoint", sa.String(255), nullable=True),
        sa.Column("attach_mode", sa.String(8), nullable=True),
        sa.Column("connector", sa.JSON(), nullable=True),
        sa.Column("connection_info", sa.JSON(), nullable=True),
        sa.Column("attach_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_volume_attachments_volume_id", "volume_attachments", ["volume_id"])
    op.create_index("ix_volume_attachments_instance_uuid", "volume_attachments", ["instance_uuid"])


def downgrade() -> None:
    op.drop_table("volume_attachments")
    with op.batch_alter_table("volumes") as batch:
        batch.drop_column("previous_status")
        batch.drop_column("multiattach")

"""Image properties of volumes (os-set_image_metadata, volume_image_metadata)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_image_metadata",
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volumes.id"], name=op.f("fk_volume_image_metadata_volume_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("volume_id", "key", name=op.f("pk_volume_image_metadata")),
    )


def downgrade() -> None:
    op.drop_table("volume_image_metadata")

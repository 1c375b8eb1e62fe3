"""Images of the Image v2 service, with their custom properties and tags

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("os_hidden", sa.Boolean(), nullable=False),
        sa.Column("disk_format", sa.String(32), nullable=True),
        sa.Column("container_format", sa.String(32), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("virtual_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(32), nullable=True),
        sa.Column("os_hash_algo", sa.String(64), nullable=True),
        sa.Column("os_hash_value", sa.String(128), nullable=True),
        sa.Column("min_disk", sa.Integer(), nullable=False),
        sa.Column("min_ram", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
    )
    op.create_index("ix_images_owner_created", "images", ["owner", "created_at", "id"])
    op.create_index("ix_images_visibility", "images", ["visibility"])
    op.create_table(
        "image_properties",
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_properties_image_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "key", name=op.f("pk_image_properties")),
    )
    op.create_table(
        "image_tags",
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], name=op.f("fk_image_tags_image_id"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("image_id", "tag", name=op.f("pk_image_tags")),
    )


def downgrade() -> None:
    op.drop_table("image_tags")
    op.drop_table("image_properties")
    op.drop_index("ix_images_visibility", table_name="images")
    op.drop_index("ix_images_owner_created", table_name="images")
    op.drop_table("images")

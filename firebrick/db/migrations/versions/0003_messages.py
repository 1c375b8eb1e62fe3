"""User messages (the 3.3 messages API)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=True),
        sa.Column("resource_type", sa.String(length=64), nullable=True),
        sa.Column("resource_uuid", sa.String(length=36), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("message_level", sa.String(length=16), nullable=False),
        sa.Column("user_message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_project_id"), "messages", ["project_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_project_id"), table_name="messages")
    op.drop_table("messages")

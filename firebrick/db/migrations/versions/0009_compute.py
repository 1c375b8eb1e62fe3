"""The compute side: flavors, servers, their volume block-device mappings, instance actions

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flavors",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("ram", sa.Integer(), nullable=False),
        sa.Column("disk", sa.Integer(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "servers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("flavor_id", sa.String(255), nullable=False),
        sa.Column("image_id", sa.String(36), nullable=True),
        sa.Column("vm_state", sa.String(32), nullable=False),
        sa.Column("task_state", sa.String(32), nullable=True),
        sa.Column("power_state", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_reason", sa.String(255), nullable=True),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("fault", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("launched_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_servers_project_created", "servers", ["project_id", "created_at", "id"])
    op.create_table(
        "block_device_mappings",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("instance_uuid", sa.String(36), sa.ForeignKey("servers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("attachment_id", sa.String(36), nullable=True),
        sa.Column("device_name", sa.String(255), nullable=True),
        sa.Column("boot_index", sa.Integer(), nullable=True),
        sa.Column("delete_on_termination", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(60), nullable=True),
        sa.Column("volume_size", sa.Integer(), nullable=True),
        sa.Column("connection_info", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("instance_uuid", "volume_id", name="uq_bdm_instance_volume"),
    )
    op.create_index("ix_block_device_mappings_volume_id", "block_device_mappings", ["volume_id"])
    op.create_table(
        "instance_actions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("instance_uuid", sa.String(36), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("message", sa.String(255), nullable=True),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_instance_actions_instance", "instance_actions", ["instance_uuid", "start_time"])
    op.create_table(
        "instance_action_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("action_id", sa.String(36), sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("finish_time", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(32), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
    )
    op.create_index("ix_instance_action_events_action", "instance_action_events", ["action_id"])


def downgrade() -> None:
    for table in ("instance_action_events", "instance_actions", "block_device_mappings", "servers", "flavors"):
        op.drop_table(table)

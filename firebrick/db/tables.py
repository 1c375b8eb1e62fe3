"""The schema, as SQLAlchemy Core tables. Alembic migrations build it; see migrations/."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata"]

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

_ID = sa.String(36)
_NAME = sa.String(255)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("domain_id", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False, server_default="[]"),
    # Attributes a client set that Keystone keeps without knowing them.
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("domain_id", sa.String(64), nullable=False),
    sa.Column("default_project_id", sa.String(32), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
    # Tokens issued before this are void: Keystone's revocation on a password change or a disable.
    sa.Column("tokens_valid_after", sa.DateTime, nullable=True),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
)

role_assignments = sa.Table(
    "role_assignments",
    metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    # Listing a project's assignments, and deleting a project, without a scan.
    sa.Index("ix_role_assignments_project_id", "project_id"),
)

volume_types = sa.Table(
    "volume_types",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("name", _NAME, nullable=False, unique=True),
    sa.Column("description", _NAME, nullable=True),
    sa.Column("is_public", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

volume_type_extra_specs = sa.Table(
    "volume_type_extra_specs",
    metadata,
    sa.Column("type_id", sa.ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", _NAME, nullable=False),
)

volumes = sa.Table(
    "volumes",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("name", _NAME, nullable=True),
    sa.Column("description", _NAME, nullable=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("attach_status", sa.String(32), nullable=False),
    # Cinder's width: a migration's destination row holds ``target:<source id>``.
    sa.Column("migration_status", sa.String(255), nullable=True),
    sa.Column("volume_type_id", sa.ForeignKey("volume_types.id"), nullable=False),
    sa.Column("availability_zone", _NAME, nullable=False),
    sa.Column("host", _NAME, nullable=True),
    sa.Column("bootable", sa.Boolean, nullable=False),
    sa.Column("snapshot_id", _ID, nullable=True),
    sa.Column("source_volid", _ID, nullable=True),
    sa.Column("error_reason", sa.Text, nullable=True),
    # The size an extend in progress is growing to: counted by quota until it lands.
    sa.Column("resize_target", sa.Integer, nullable=True),
    # Cinder's admin metadata "readonly": unset (None) until os-update_readonly_flag sets it.
    sa.Column("readonly", sa.Boolean, nullable=True),
    sa.Column("multiattach", sa.Boolean, nullable=False, server_default=sa.false()),
    # The status an action in progress (upload, retype) returns the volume to.
    sa.Column("previous_status", sa.String(32), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    # Listing a project's volumes newest first, and counting its usage, read only the index.
    sa.Index("ix_volumes_project_created", "project_id", "created_at", "id"),
    sa.Index("ix_volumes_project_type_size", "project_id", "volume_type_id", "size"),
)

volume_metadata = sa.Table(
    "volume_metadata",
    metadata,
    sa.Column("volume_id", sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", _NAME, nullable=False),
)

volume_image_metadata = sa.Table(
    "volume_image_metadata",
    metadata,
    sa.Column("volume_id", sa.ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

volume_attachments = sa.Table(
    "volume_attachments",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("volume_id", sa.ForeignKey("volumes.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("attach_status", sa.String(32), nullable=False),
    sa.Column("instance_uuid", _ID, nullable=True, index=True),
    sa.Column("attached_host", _NAME, nullable=True),
    sa.Column("mountpoint", _NAME, nullable=True),
    sa.Column("attach_mode", sa.String(8), nullable=True),
    sa.Column("connector", sa.JSON, nullable=True),
    sa.Column("connection_info", sa.JSON, nullable=True),
    sa.Column("attach_time", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=True),
)

snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("volume_id", sa.ForeignKey("volumes.id"), nullable=False, index=True),
    sa.Column("name", _NAME, nullable=True),
    sa.Column("description", _NAME, nullable=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("progress", sa.String(16), nullable=False),
    sa.Column("error_reason", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Index("ix_snapshots_project_created", "project_id", "created_at", "id"),
)

snapshot_metadata = sa.Table(
    "snapshot_metadata",
    metadata,
    sa.Column("snapshot_id", sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", _NAME, nullable=False),
)

quotas = sa.Table(
    "quotas",
    metadata,
    sa.Column("project_id", sa.String(64), primary_key=True),
    sa.Column("resource", _NAME, primary_key=True),
    sa.Column("hard_limit", sa.Integer, nullable=False),
)

services = sa.Table(
    "services",
    metadata,
    sa.Column("host", _NAME, primary_key=True),
    sa.Column("binary", sa.String(64), primary_key=True),
    sa.Column("zone", _NAME, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", _NAME, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("resource_id", _ID, nullable=False, index=True),
    sa.Column("owner", _NAME, nullable=False, index=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # The claim: who runs it, until when (database time; renewed while it runs), and the
    # fencing token every write of the step checks (bumped by each claim).
    sa.Column("claimed_by", _NAME, nullable=True),
    sa.Column("lease_until", sa.DateTime, nullable=True),
    sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
    # Not to be run before this time (database time): a wait's deadline, or a retry's back-off.
    sa.Column("due_at", sa.DateTime, nullable=True),
    sa.Index("ix_jobs_owner_created", "owner", "created_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    sa.Column("request_id", _NAME, nullable=True),
    sa.Column("resource_type", sa.String(64), nullable=True),
    sa.Column("resource_uuid", _ID, nullable=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("message_level", sa.String(16), nullable=False),
    sa.Column("user_message", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# The Image v2 service (Glance's subset). ``node`` is the node whose data directory holds the file.
images = sa.Table(
    "images",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("name", _NAME, nullable=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.Column("os_hidden", sa.Boolean, nullable=False),
    sa.Column("disk_format", sa.String(32), nullable=True),
    sa.Column("container_format", sa.String(32), nullable=True),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("virtual_size", sa.BigInteger, nullable=True),
    sa.Column("checksum", sa.String(32), nullable=True),
    sa.Column("os_hash_algo", sa.String(64), nullable=True),
    sa.Column("os_hash_value", sa.String(128), nullable=True),
    sa.Column("min_disk", sa.Integer, nullable=False),
    sa.Column("min_ram", sa.Integer, nullable=False),
    sa.Column("node", _NAME, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    # A project's listing (its own images, newest first) and the public ones read an index each.
    sa.Index("ix_images_owner_created", "owner", "created_at", "id"),
    sa.Index("ix_images_visibility", "visibility"),
)

image_properties = sa.Table(
    "image_properties",
    metadata,
    sa.Column("image_id", sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", _NAME, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

image_tags = sa.Table(
    "image_tags",
    metadata,
    sa.Column("image_id", sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", _NAME, primary_key=True),
)

flavors = sa.Table(
    "flavors",
    metadata,
    sa.Column("id", _NAME, primary_key=True),
    sa.Column("name", _NAME, nullable=False, unique=True),
    sa.Column("vcpus", sa.Integer, nullable=False),
    sa.Column("ram", sa.Integer, nullable=False),
    sa.Column("disk", sa.Integer, nullable=False),
    sa.Column("is_public", sa.Boolean, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

servers = sa.Table(
    "servers",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("project_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("flavor_id", _NAME, nullable=False),
    sa.Column("image_id", _ID, nullable=True),
    sa.Column("vm_state", sa.String(32), nullable=False),
    sa.Column("task_state", sa.String(32), nullable=True),
    sa.Column("power_state", sa.Integer, nullable=False),
    sa.Column("host", _NAME, nullable=True),
    # The firebrick node whose hypervisor runs the guest.
    sa.Column("node", _NAME, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),
    sa.Column("locked_reason", _NAME, nullable=True),
    sa.Column("availability_zone", _NAME, nullable=False),
    # Why the server is in error, for its ``fault`` field.
    sa.Column("fault", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("launched_at", sa.DateTime, nullable=True),
    # Set when deleted: the row stays, so its instance actions can be listed (2.21).
    sa.Column("deleted_at", sa.DateTime, nullable=True),
    # The servers one create request made share it (Nova's ``r-…`` reservation id).
    sa.Column("reservation_id", sa.String(64), nullable=True),
    sa.Index("ix_servers_project_created", "project_id", "created_at", "id"),
)

block_device_mappings = sa.Table(
    "block_device_mappings",
    metadata,
    sa.Column("uuid", _ID, primary_key=True),
    sa.Column("instance_uuid", sa.ForeignKey("servers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("volume_id", _ID, nullable=False, index=True),
    sa.Column("attachment_id", _ID, nullable=True),
    sa.Column("device_name", _NAME, nullable=True),
    sa.Column("boot_index", sa.Integer, nullable=True),
    sa.Column("delete_on_termination", sa.Boolean, nullable=False),
    sa.Column("tag", sa.String(60), nullable=True),
    sa.Column("volume_size", sa.Integer, nullable=True),
    sa.Column("connection_info", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # One mapping per (server, volume): the second attach of a volume to a server is refused by this too.
    sa.UniqueConstraint("instance_uuid", "volume_id", name="uq_bdm_instance_volume"),
)

instance_actions = sa.Table(
    "instance_actions",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("request_id", _NAME, nullable=False),
    sa.Column("instance_uuid", _ID, nullable=False),
    sa.Column("action", _NAME, nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("project_id", sa.String(64), nullable=False),
    sa.Column("message", _NAME, nullable=True),
    sa.Column("start_time", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Index("ix_instance_actions_instance", "instance_uuid", "start_time"),
)

instance_action_events = sa.Table(
    "instance_action_events",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("action_id", sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event", _NAME, nullable=False),
    sa.Column("host", _NAME, nullable=True),
    sa.Column("start_time", sa.DateTime, nullable=False),
    sa.Column("finish_time", sa.DateTime, nullable=True),
    sa.Column("result", sa.String(32), nullable=True),
    sa.Column("traceback", sa.Text, nullable=True),
    sa.Column("details", sa.Text, nullable=True),
    sa.Index("ix_instance_action_events_action", "action_id"),
)

# Token signing keys, shared by every process on this database: the newest kid signs, older ones
# verify until their tokens have expired (domain/identity/tokens.py). The primary key is what
# makes rotation race-safe: processes rotating at once insert the same kid, and one insert wins.
token_keys = sa.Table(
    "token_keys",
    metadata,
    sa.Column("kid", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("secret", sa.LargeBinary(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

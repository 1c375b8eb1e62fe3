"""Plain values that cross layer boundaries: no ORM rows, no requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firebrick.domain.volume.states import MIGRATION_SETTLED, MIGRATION_TARGET, AttachStatus

__all__ = [
    "ActionEvent",
    "Attachment",
    "BlockDeviceMapping",
    "Caller",
    "Flavor",
    "InstanceAction",
    "Image",
    "Job",
    "Message",
    "Page",
    "Project",
    "Role",
    "RoleAssignment",
    "Server",
    "Service",
    "Snapshot",
    "User",
    "Volume",
    "VolumeType",
]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the token says (roles include implied ones)."""

    user_id: str
    project_id: str
    roles: frozenset[str]
    user_name: str = ""
    project_name: str = ""
    # The roles of a service token sent along (X-Service-Token): a service acting for the user.
    service_roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    domain_id: str = "default"
    description: str = ""
    enabled: bool = True
    tags: tuple[str, ...] = ()
    # Attributes Keystone keeps without knowing them (``openstack project create --property``).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    password_hash: str
    domain_id: str = "default"
    default_project_id: str | None = None
    enabled: bool = True
    # Attributes Keystone keeps without knowing them: ``email``, ``description``, tempest's ``project_id``.
    extra: dict[str, Any] = field(default_factory=dict)
    # Tokens issued before this instant are void (a password change, a disable), as Keystone revokes them.
    tokens_valid_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A user's role on a project; ``prior_role_id`` is set when the role is implied by that one."""

    user_id: str
    user_name: str
    project_id: str
    project_name: str
    role_id: str
    role_name: str
    prior_role_id: str | None = None


@dataclass(frozen=True, slots=True)
class VolumeType:
    id: str
    name: str
    description: str | None = None
    is_public: bool = True
    extra_specs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Volume:
    id: str
    project_id: str
    user_id: str
    size: int
    status: str
    volume_type_id: str
    availability_zone: str
    created_at: datetime
    name: str | None = None
    description: str | None = None
    host: str | None = None
    attach_status: str = AttachStatus.DETACHED
    migration_status: str | None = None
    bootable: bool = False
    snapshot_id: str | None = None
    source_volid: str | None = None
    updated_at: datetime | None = None
    error_reason: str | None = None
    resize_target: int | None = None
    readonly: bool | None = None
    multiattach: bool = False
    # The status an action in progress (upload, retype) returns the volume to.
    previous_status: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    volume_type_name: str | None = None
    # Image properties (Glance's), as os-set_image_metadata and uploads record them.
    image_metadata: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    @property
    def migrating(self) -> bool:
        return self.migration_status not in MIGRATION_SETTLED

    @property
    def attached(self) -> bool:
        """Whether anything is connected to the volume: the one answer every action asks for."""
        connected = any(a.attach_status == AttachStatus.ATTACHED for a in self.attachments)
        return connected or self.attach_status == AttachStatus.ATTACHED

    @property
    def attached_servers(self) -> list[str]:
        """The servers the volume is attached to, each once (an attachment to a bare host names none)."""
        servers = (a.instance_uuid for a in self.attachments if a.attach_status == AttachStatus.ATTACHED)
        return list(dict.fromkeys(server for server in servers if server))

    @property
    def migration_source(self) -> str | None:
        """The volume this one is the temporary destination of, while a migration runs."""
        status = self.migration_status or ""
        return status.removeprefix(MIGRATION_TARGET) if status.startswith(MIGRATION_TARGET) else None

    @property
    def storage_id(self) -> str:
        """The id the backend knows this volume's object by.

        A migration's destination object is made under its source's id, the id the volume
        keeps once the move ends, so the file a guest is switched to never changes name.
        """
        return self.migration_source or self.id


@dataclass(frozen=True, slots=True)
class Attachment:
    """One host's (or server's) use of a volume; ``attach_status`` is an AttachStatus."""

    id: str
    volume_id: str
    attach_status: str
    created_at: datetime
    instance_uuid: str | None = None
    attached_host: str | None = None
    mountpoint: str | None = None
    attach_mode: str | None = None
    connector: dict[str, Any] | None = None
    connection_info: dict[str, Any] | None = None
    attach_time: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    project_id: str
    user_id: str
    volume_id: str
    size: int
    status: str
    created_at: datetime
    name: str | None = None
    description: str | None = None
    progress: str = "0%"
    updated_at: datetime | None = None
    error_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Service:
    host: str
    binary: str
    zone: str
    disabled: bool
    updated_at: datetime | None
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A durable unit of asynchronous work; see ``firebrick.workers``."""

    id: str
    kind: str
    resource_id: str
    owner: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0
    # The fencing token of the claim this copy was read under (0: never claimed).
    epoch: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """A user message (Cinder's 3.3 messages API): how an asynchronous failure is told."""

    id: str
    project_id: str
    resource_type: str | None
    resource_uuid: str | None
    event_id: str
    message_level: str
    user_message: str
    created_at: datetime
    expires_at: datetime
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    """An image of the Image v2 service (Glance's fields); ``status`` is an ImageStatus.

    ``properties`` are the custom (string) properties Glance shows at the top level;
    ``node`` is the node whose data directory holds the file.
    """

    id: str
    owner: str | None
    status: str
    visibility: str
    created_at: datetime
    name: str | None = None
    protected: bool = False
    os_hidden: bool = False
    disk_format: str | None = None
    container_format: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    node: str | None = None
    updated_at: datetime | None = None
    tags: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """What a listing asks for: filters, sort keys and a window."""

    filters: dict[str, Any] = field(default_factory=dict)
    sort: tuple[tuple[str, str], ...] = (("created_at", "desc"), ("id", "desc"))
    limit: int | None = None
    marker: str | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB
    is_public: bool = True
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Server:
    """A guest; ``vm_state``/``task_state`` are Nova's (see ``domain.compute.states``)."""

    id: str
    project_id: str
    user_id: str
    name: str
    flavor_id: str
    vm_state: str
    power_state: int
    node: str
    availability_zone: str
    created_at: datetime
    image_id: str | None = None
    task_state: str | None = None
    host: str | None = None
    locked: bool = False
    locked_reason: str | None = None
    fault: str | None = None
    updated_at: datetime | None = None
    launched_at: datetime | None = None
    deleted_at: datetime | None = None
    reservation_id: str | None = None


@dataclass(frozen=True, slots=True)
class BlockDeviceMapping:
    """A volume as a server uses it (Nova's BDM): its device, its block-storage attachment."""

    uuid: str
    instance_uuid: str
    volume_id: str
    delete_on_termination: bool
    created_at: datetime
    attachment_id: str | None = None
    device_name: str | None = None
    boot_index: int | None = None
    tag: str | None = None
    volume_size: int | None = None
    connection_info: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ActionEvent:
    id: str
    action_id: str
    event: str
    start_time: datetime
    host: str | None = None
    finish_time: datetime | None = None
    result: str | None = None
    traceback: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceAction:
    """What was asked of a server, keyed by the request id that asked it."""

    id: str
    request_id: str
    instance_uuid: str
    action: str
    user_id: str
    project_id: str
    start_time: datetime
    message: str | None = None
    updated_at: datetime | None = None
    events: tuple[ActionEvent, ...] = ()

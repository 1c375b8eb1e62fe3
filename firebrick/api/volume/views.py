"""Rendering volumes, snapshots and types as Cinder shows them, per microversion and role."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from firebrick.api.volume._call import VolumeCall
from firebrick.domain.model import Snapshot, Volume, VolumeType
from firebrick.domain.volume.states import AttachStatus, VolumeStatus
from firebrick.domain.volume_types import USER_VISIBLE_SPECS

__all__ = ["VolumeView", "snapshot_view", "timestamp", "type_view"]


# Cinder shows a volume being managed as any new volume, and a failed one as any failed one.
_SHOWN_STATUS: dict[str, str] = {VolumeStatus.MANAGING: "creating", VolumeStatus.ERROR_MANAGING: "error"}


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _links(call: VolumeCall, collection: str, resource_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": call.url(collection, resource_id)},
        {"rel": "bookmark", "href": call.bookmark(collection, resource_id)},
    ]


class VolumeView:
    """Renders volumes for one request.

    What depends only on the request (links, role, microversion, which extension
    attributes policy shows for a project) is worked out once, not per volume:
    a detail listing renders a hundred.
    """

    def __init__(self, call: VolumeCall) -> None:
        self._call = call
        self._self = call.url("volumes")
        self._bookmark = call.bookmark("volumes")
        self._admin = call.caller.is_admin
        self._visible: dict[str, tuple[bool, bool, bool, bool]] = {}
        self._static = self._static_fields()
        self._with_service = call.at_least(48)
        self._with_type_id = call.at_least(63)
        self._with_quota = call.at_least(65)

    def summary(self, volume: Volume) -> dict[str, Any]:
        return {"id": volume.id, "name": volume.name, "links": self._links(volume.id)}

    def detail(self, volume: Volume, extended: bool = True) -> dict[str, Any]:
        """The detail view; ``extended`` adds the ``os-vol-*`` attributes of show and list.

        Create and update answers leave them out, as Cinder's do (tempest's schema forbids them there).
        """
        body: dict[str, Any] = {
            "id": volume.id,
            "status": _SHOWN_STATUS.get(volume.status, volume.status),
            "size": volume.size,
            "availability_zone": volume.availability_zone,
            # Datetimes go to orjson as they are: it writes naive ones exactly as isoformat() does.
            "created_at": volume.created_at,
            "updated_at": volume.updated_at,
            "name": volume.name,
            "description": volume.description,
            "volume_type": volume.volume_type_name or volume.volume_type_id,
            "snapshot_id": volume.snapshot_id,
            "source_volid": volume.source_volid,
            "metadata": _shown_metadata(volume),
            "links": self._links(volume.id),
            "user_id": volume.user_id,
            "bootable": "true" if volume.bootable else "false",
            "encrypted": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "multiattach": volume.multiattach,
            "attachments": _attachments(volume),
        }
        if self._admin:
            body["migration_status"] = volume.migration_status
        body.update(self._static)
        self._add_versioned(body, volume)
        if extended:
            self._add_extended(body, volume)
        return body

    def _links(self, volume_id: str) -> list[dict[str, str]]:
        return [
            {"rel": "self", "href": f"{self._self}/{volume_id}"},
            {"rel": "bookmark", "href": f"{self._bookmark}/{volume_id}"},
        ]

    def _static_fields(self) -> dict[str, Any]:
        call = self._call
        fields: dict[str, Any] = {}
        if call.at_least(13):
            fields["group_id"] = None
        if call.at_least(21) and self._admin:
            fields["provider_id"] = None
        if call.at_least(48):
            fields["shared_targets"] = False
        if call.at_least(61) and self._admin:
            fields["cluster_name"] = None
        return fields

    def _add_versioned(self, body: dict[str, Any], volume: Volume) -> None:
        if self._with_service:
            body["service_uuid"] = _service_uuid(volume.host)
        if self._with_type_id:
            body["volume_type_id"] = volume.volume_type_id
        if self._with_quota:
            body["consumes_quota"] = True

    def _add_extended(self, body: dict[str, Any], volume: Volume) -> None:
        tenant, migration, host, image = self._visible_attributes(volume.project_id)
        if tenant:
            body["os-vol-tenant-attr:tenant_id"] = volume.project_id
        if migration:
            body["os-vol-mig-status-attr:migstat"] = volume.migration_status
            body["os-vol-mig-status-attr:name_id"] = None
        if host:
            body["os-vol-host-attr:host"] = volume.host
        if image and volume.image_metadata:
            body["volume_image_metadata"] = volume.image_metadata

    def _visible_attributes(self, project_id: str) -> tuple[bool, bool, bool, bool]:
        visible = self._visible.get(project_id)
        if visible is None:
            allowed = self._call.allowed
            visible = (
                allowed("volume_extension:volume_tenant_attribute", project_id),
                allowed("volume_extension:volume_mig_status_attribute", project_id),
                allowed("volume_extension:volume_host_attribute", project_id),
                allowed("volume_extension:volume_image_metadata:show", project_id),
            )
            self._visible[project_id] = visible
        return visible


def _shown_metadata(volume: Volume) -> dict[str, str]:
    # Cinder shows the admin metadata keys "readonly" ("True"/"False") and "attached_mode"
    # among the user's metadata.
    shown = volume.metadata
    if volume.readonly is not None:
        shown = {**shown, "readonly": str(volume.readonly)}
    modes = [a.attach_mode for a in volume.attachments if a.attach_status == AttachStatus.ATTACHED and a.attach_mode]
    if modes:
        shown = {**shown, "attached_mode": modes[0]}
    return shown


def _attachments(volume: Volume) -> list[dict[str, Any]]:
    # Only attachments a host completed are shown; reservations are not (as in Cinder).
    return [
        {
            "id": volume.id,
            "attachment_id": a.id,
            "volume_id": volume.id,
            "server_id": a.instance_uuid,
            "host_name": a.attached_host,
            "device": a.mountpoint,
            "attached_at": a.attach_time,
        }
        for a in volume.attachments
        if a.attach_status == AttachStatus.ATTACHED
    ]


def _service_uuid(host: str | None) -> str | None:
    # A stable id per backend service, derived from its host string.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, host.split("#")[0])) if host else None


def snapshot_view(call: VolumeCall, snapshot: Snapshot, extended: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": snapshot.id,
        "created_at": timestamp(snapshot.created_at),
        "updated_at": timestamp(snapshot.updated_at),
        "name": snapshot.name,
        "description": snapshot.description,
        "volume_id": snapshot.volume_id,
        "status": snapshot.status,
        "size": snapshot.size,
        "metadata": snapshot.metadata,
    }
    if call.at_least(14):
        body["group_snapshot_id"] = None
    if call.at_least(41):
        body["user_id"] = snapshot.user_id
    if call.at_least(65):
        body["consumes_quota"] = True
    if extended and call.allowed("volume_extension:extended_snapshot_attributes", snapshot.project_id):
        body["os-extended-snapshot-attributes:progress"] = snapshot.progress
        body["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
    return body


def type_view(
    call: VolumeCall, volume_type: VolumeType, with_qos: bool = True, with_access: bool = True
) -> dict[str, Any]:
    """A volume type; Cinder's access extension adds its flag to index, show and create answers, not update's."""
    admin_specs = call.allowed("volume_extension:access_types_extra_specs")
    specs = (
        volume_type.extra_specs
        if admin_specs
        else {k: v for k, v in volume_type.extra_specs.items() if k in USER_VISIBLE_SPECS}
    )
    body: dict[str, Any] = {
        "id": volume_type.id,
        "name": volume_type.name,
        "is_public": volume_type.is_public,
        "description": volume_type.description,
        "extra_specs": specs,
    }
    if with_access:
        body["os-volume-type-access:is_public"] = volume_type.is_public
    if with_qos and call.allowed("volume_extension:access_types_qos_specs_id"):
        body["qos_specs_id"] = None
    return body

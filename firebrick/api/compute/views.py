"""Rendering servers, attachments, flavors and instance actions as Nova shows them, per microversion."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from firebrick.api.compute._call import ComputeCall
from firebrick.domain.compute import query
from firebrick.domain.compute.states import shown_status
from firebrick.domain.model import BlockDeviceMapping, Flavor, InstanceAction, Server

__all__ = ["action_view", "attachment_view", "flavor_view", "server_detail", "server_summary"]


def _time(value: datetime | None) -> str | None:
    # Nova's server times are ISO 8601 in UTC with a Z.
    return value.replace(microsecond=0).isoformat() + "Z" if value is not None else None


def _links(call: ComputeCall, collection: str, resource_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": call.url(collection, resource_id)},
        {"rel": "bookmark", "href": call.bookmark(collection, resource_id)},
    ]


def server_summary(call: ComputeCall, server: Server) -> dict[str, Any]:
    return {"id": server.id, "name": server.name, "links": _links(call, "servers", server.id)}


def server_detail(call: ComputeCall, server: Server, mappings: list[BlockDeviceMapping]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": server.id,
        "name": server.name,
        "status": shown_status(server.vm_state, server.task_state),
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "metadata": {},
        "hostId": _host_id(server) if server.host else "",
        "image": {"id": server.image_id, "links": _links(call, "images", server.image_id)} if server.image_id else "",
        "flavor": {"id": server.flavor_id, "links": _links(call, "flavors", server.flavor_id)},
        "created": _time(server.created_at),
        "updated": _time(server.updated_at or server.created_at),
        "addresses": {},
        "accessIPv4": "",
        "accessIPv6": "",
        "links": _links(call, "servers", server.id),
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": server.availability_zone,
        "config_drive": "",
        "key_name": None,
        "OS-SRV-USG:launched_at": _time(server.launched_at),
        "OS-SRV-USG:terminated_at": _time(server.deleted_at),
        "security_groups": [{"name": "default"}],
        "OS-EXT-STS:task_state": server.task_state,
        "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:power_state": server.power_state,
        "os-extended-volumes:volumes_attached": [_volume_attached(call, m) for m in mappings],
    }
    if server.fault and server.vm_state in ("error", "deleted"):
        body["fault"] = {"code": 500, "created": _time(server.updated_at), "message": server.fault}
    if call.allowed("os_compute_api:os-extended-server-attributes", server.project_id):
        body["OS-EXT-SRV-ATTR:host"] = server.host
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = server.host
        body["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{server.id[:8]}"
    if call.at_least(9):
        body["locked"] = server.locked
    if call.at_least(73):
        body["locked_reason"] = server.locked_reason
    if call.at_least(19):
        body["description"] = None
    if call.at_least(26):
        body["tags"] = []
    if call.at_least(47):
        body["flavor"] = _embedded_flavor(call, server)
    if call.at_least(63):
        body["trusted_image_certificates"] = None
    if call.at_least(16):
        body["host_status"] = "UP" if server.host else ""
    return body


def _volume_attached(call: ComputeCall, mapping: BlockDeviceMapping) -> dict[str, Any]:
    item: dict[str, Any] = {"id": mapping.volume_id}
    if call.at_least(3):
        item["delete_on_termination"] = mapping.delete_on_termination
    return item


def _embedded_flavor(call: ComputeCall, server: Server) -> dict[str, Any]:
    flavor = query.server_flavor(call.ports, server)
    if flavor is None:
        return {}
    return {
        "original_name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk,
        "ephemeral": 0, "swap": 0, "extra_specs": {},
    }  # fmt: skip


def _host_id(server: Server) -> str:
    # Nova's hostId: a project-specific digest of the host, so projects cannot compare hosts.
    return hashlib.sha224((server.project_id + (server.host or "")).encode()).hexdigest()


def attachment_view(call: ComputeCall, mapping: BlockDeviceMapping) -> dict[str, Any]:
    """A listed or shown attachment (Nova's ``_translate_attachment_detail_view``)."""
    body: dict[str, Any] = {"volumeId": mapping.volume_id, "serverId": mapping.instance_uuid}
    if not call.at_least(89):
        body["id"] = mapping.volume_id
    if mapping.device_name:
        body["device"] = mapping.device_name
    if call.at_least(70):
        body["tag"] = mapping.tag
    if call.at_least(79):
        body["delete_on_termination"] = mapping.delete_on_termination
    if call.at_least(89):
        body["attachment_id"] = mapping.attachment_id
        body["bdm_uuid"] = mapping.uuid
    return body


def flavor_view(call: ComputeCall, flavor: Flavor, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": flavor.id, "name": flavor.name, "links": _links(call, "flavors", flavor.id)}
    if call.at_least(55):
        body["description"] = flavor.description
    if detail:
        body.update({
            "vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk, "swap": "",
            "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False, "rxtx_factor": 1.0,
            "os-flavor-access:is_public": flavor.is_public,
        })  # fmt: skip
        if call.at_least(61):
            body["extra_specs"] = {}
    return body


def action_view(call: ComputeCall, action: InstanceAction, with_events: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action.action,
        "instance_uuid": action.instance_uuid,
        "request_id": action.request_id,
        "user_id": action.user_id,
        "project_id": action.project_id,
        "start_time": action.start_time.isoformat(),
        "message": action.message,
    }
    if call.at_least(58):
        body["updated_at"] = (action.updated_at or action.start_time).isoformat()
    if not with_events:
        return body
    admin_events = call.allowed("os_compute_api:os-instance-actions:events", action.project_id)
    if not (admin_events or call.at_least(51)):
        return body
    details = call.at_least(84) and call.allowed("os_compute_api:os-instance-actions:events:details", action.project_id)
    events = []
    for item in action.events:
        shown: dict[str, Any] = {
            "event": item.event,
            "start_time": item.start_time.isoformat(),
            "finish_time": item.finish_time.isoformat() if item.finish_time else None,
            "result": item.result,
        }
        if admin_events:
            shown["traceback"] = item.traceback
        if call.at_least(62):
            shown["hostId"] = hashlib.sha224((action.project_id + (item.host or "")).encode()).hexdigest()
            if admin_events:
                shown["host"] = item.host
        if details:
            shown["details"] = item.details
        events.append(shown)
    body["events"] = events
    return body

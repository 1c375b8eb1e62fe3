"""Reading servers and their volume attachments."""

from __future__ import annotations

from firebrick.domain.compute._lookup import visible_server
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.model import BlockDeviceMapping, Caller, Flavor, Page, Server
from firebrick.errors import NotFound

__all__ = ["list_servers", "server_attachment", "server_attachments", "server_flavor", "show_server"]


def show_server(ports: ComputePorts, caller: Caller, server_id: str) -> Server:
    return visible_server(ports, caller, server_id)


def list_servers(ports: ComputePorts, caller: Caller, page: Page, all_projects: bool) -> list[Server]:
    return ports.servers.find(page, None if all_projects and caller.is_admin else caller.project_id)


def server_flavor(ports: ComputePorts, server: Server) -> Flavor | None:
    """The server's flavor; None when it was deleted since (Nova keeps a copy; firebrick shows nothing)."""
    return ports.flavors.get(server.flavor_id)


def server_attachments(ports: ComputePorts, server: Server) -> list[BlockDeviceMapping]:
    return ports.mappings.of_server(server.id)


def server_attachment(ports: ComputePorts, server: Server, volume_id: str) -> BlockDeviceMapping:
    """Raises NotFound when the server does not have that volume."""
    found = ports.mappings.get(server.id, volume_id)
    if found is None:
        raise NotFound("BlockDeviceMapping", volume_id, f"Instance {server.id} is not attached to volume {volume_id}")
    return found

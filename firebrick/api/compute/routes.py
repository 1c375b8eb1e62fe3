"""The Compute v2.1 route table, mounted at ``/compute``; each resource with and without the project id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from firebrick.api.compute import external_events, flavors, instance_actions, servers, versions, volume_attachments

__all__ = ["routes"]

Endpoint = Callable[[Request], Awaitable[Response]]

_ATTACHMENTS = "/servers/{server_id}/os-volume_attachments"
_RESOURCES: list[tuple[str, str, Endpoint]] = [
    ("/servers", "GET", servers.index),
    ("/servers", "POST", servers.create),
    ("/servers/detail", "GET", servers.detail),
    ("/servers/{server_id}", "GET", servers.show),
    ("/servers/{server_id}", "DELETE", servers.delete),
    ("/servers/{server_id}/action", "POST", servers.action),
    ("/servers/{server_id}/ips", "GET", servers.ips),
    (_ATTACHMENTS, "GET", volume_attachments.index),
    (_ATTACHMENTS, "POST", volume_attachments.create),
    (_ATTACHMENTS + "/{volume_id}", "GET", volume_attachments.show),
    (_ATTACHMENTS + "/{volume_id}", "PUT", volume_attachments.update),
    (_ATTACHMENTS + "/{volume_id}", "DELETE", volume_attachments.delete),
    ("/servers/{server_id}/os-instance-actions", "GET", instance_actions.index),
    ("/servers/{server_id}/os-instance-actions/{request_id}", "GET", instance_actions.show),
    ("/os-server-external-events", "POST", external_events.create),
    ("/flavors", "GET", flavors.index),
    ("/flavors", "POST", flavors.create),
    ("/flavors/detail", "GET", flavors.detail),
    ("/flavors/{flavor_id}", "GET", flavors.show),
    ("/flavors/{flavor_id}", "DELETE", flavors.delete),
]


def routes() -> list[BaseRoute]:
    table: list[BaseRoute] = [
        Route("/", versions.root, methods=["GET"]),
        Route("/v2.1", versions.v2_1, methods=["GET"]),
        Route("/v2.1/", versions.v2_1, methods=["GET"]),
    ]
    for path, method, endpoint in _RESOURCES:
        table.append(Route("/v2.1" + path, endpoint, methods=[method]))
        table.append(Route("/v2.1/{project_id}" + path, endpoint, methods=[method]))
    return table

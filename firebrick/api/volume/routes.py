"""The Block Storage v3 route table, mounted at ``/volume``.

Every resource is served both as ``/v3/{project_id}/...`` and, as Cinder's
router does (documented from 3.67), as ``/v3/...``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from firebrick.api.volume import (
    actions,
    attachments,
    manage,
    messages,
    metadata,
    quotas,
    services,
    snapshots,
    types,
    versions,
    volumes,
)

__all__ = ["routes"]

Endpoint = Callable[[Request], Awaitable[Response]]

_RESOURCES: list[tuple[str, str, Endpoint]] = [
    ("/volumes", "GET", volumes.index),
    ("/volumes", "POST", volumes.create),
    ("/volumes/detail", "GET", volumes.detail),
    ("/volumes/summary", "GET", volumes.summary),
    ("/volumes/{volume_id}", "GET", volumes.show),
    ("/volumes/{volume_id}", "PUT", volumes.update),
    ("/volumes/{volume_id}", "DELETE", volumes.delete),
    ("/volumes/{volume_id}/action", "POST", actions.dispatch),
    ("/volumes/{volume_id}/metadata", "GET", metadata.index),
    ("/volumes/{volume_id}/metadata", "POST", metadata.merge),
    ("/volumes/{volume_id}/metadata", "PUT", metadata.replace),
    ("/volumes/{volume_id}/metadata/{key}", "GET", metadata.show_key),
    ("/volumes/{volume_id}/metadata/{key}", "PUT", metadata.replace_key),
    ("/volumes/{volume_id}/metadata/{key}", "DELETE", metadata.delete_key),
    ("/os-volume-manage", "GET", manage.index_legacy),
    ("/os-volume-manage", "POST", manage.manage_legacy),
    ("/os-volume-manage/detail", "GET", manage.detail_legacy),
    ("/manageable_volumes", "GET", manage.index),
    ("/manageable_volumes", "POST", manage.manage),
    ("/manageable_volumes/detail", "GET", manage.detail),
    ("/attachments", "GET", attachments.index),
    ("/attachments", "POST", attachments.create),
    ("/attachments/detail", "GET", attachments.detail),
    ("/attachments/{attachment_id}", "GET", attachments.show),
    ("/attachments/{attachment_id}", "PUT", attachments.update),
    ("/attachments/{attachment_id}", "DELETE", attachments.delete),
    ("/attachments/{attachment_id}/action", "POST", attachments.complete),
    ("/snapshots", "GET", snapshots.index),
    ("/snapshots", "POST", snapshots.create),
    ("/snapshots/detail", "GET", snapshots.detail),
    ("/snapshots/{snapshot_id}", "GET", snapshots.show),
    ("/snapshots/{snapshot_id}", "PUT", snapshots.update),
    ("/snapshots/{snapshot_id}", "DELETE", snapshots.delete),
    ("/types", "GET", types.index),
    ("/types", "POST", types.create),
    ("/types/default", "GET", types.show_default),
    ("/types/{type_id}", "GET", types.show),
    ("/types/{type_id}", "PUT", types.update),
    ("/types/{type_id}", "DELETE", types.delete),
    ("/types/{type_id}/extra_specs", "GET", types.specs_index),
    ("/types/{type_id}/extra_specs", "POST", types.specs_merge),
    ("/types/{type_id}/extra_specs/{key}", "GET", types.show_spec),
    ("/types/{type_id}/extra_specs/{key}", "PUT", types.update_spec),
    ("/types/{type_id}/extra_specs/{key}", "DELETE", types.delete_spec),
    ("/os-quota-sets/{target_project}", "GET", quotas.show),
    ("/os-quota-sets/{target_project}", "PUT", quotas.update),
    ("/os-quota-sets/{target_project}", "DELETE", quotas.reset),
    ("/os-quota-sets/{target_project}/defaults", "GET", quotas.defaults),
    ("/limits", "GET", quotas.limits),
    ("/os-services", "GET", services.index),
    ("/os-services/{action}", "PUT", services.set_status),
    ("/os-availability-zone", "GET", services.zones),
    ("/scheduler-stats/get_pools", "GET", services.get_pools),
    ("/messages", "GET", messages.index),
    ("/messages/{message_id}", "GET", messages.show),
    ("/messages/{message_id}", "DELETE", messages.delete),
]


def _resource_routes() -> list[BaseRoute]:
    # Methods of one path share a Route so that a wrong method is a 405, not a 404.
    by_path: dict[str, dict[str, Endpoint]] = {}
    for path, method, endpoint in _RESOURCES:
        by_path.setdefault(path, {})[method] = endpoint
    result: list[BaseRoute] = []
    for prefix in ("/v3/{project_id}", "/v3"):
        for path, endpoints in by_path.items():
            result.append(Route(prefix + path, _dispatch(endpoints), methods=list(endpoints)))
    return result


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    if len(endpoints) == 1:
        return next(iter(endpoints.values()))

    async def by_method(request: Request) -> Response:
        return await endpoints[request.method if request.method != "HEAD" else "GET"](request)

    return by_method


def routes() -> list[BaseRoute]:
    return [
        Route("/", versions.root, methods=["GET"]),
        Route("/v3", versions.v3, methods=["GET"]),
        Route("/v3/", versions.v3, methods=["GET"]),
        *_resource_routes(),
    ]

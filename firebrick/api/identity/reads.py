"""The identity reads every client makes: versions, and the caller's projects and catalog."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._call import request_node
from firebrick.api._json import JSONResponse
from firebrick.api.identity._common import IdentityCall, collection, identity_endpoint
from firebrick.api.identity._views import project_view
from firebrick.api.identity.catalog import catalog
from firebrick.domain.identity import projects

__all__ = ["auth_catalog", "auth_projects", "root", "v3"]


def _version(request: Request) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{request_node(request).settings.public_url}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


async def root(request: Request) -> Response:
    return JSONResponse({"versions": {"values": [_version(request)]}}, 300)


async def v3(request: Request) -> Response:
    return JSONResponse({"version": _version(request)})


@identity_endpoint
def auth_projects(request: Request, call: IdentityCall) -> Response:
    found = projects.user_projects(call.identity, call.caller.user_id, scopable=True)
    return JSONResponse(collection(request, "projects", [project_view(call.url(), p) for p in found]))


@identity_endpoint
def auth_catalog(request: Request, call: IdentityCall) -> Response:
    settings = call.node.settings
    return JSONResponse({"catalog": catalog(settings.public_url, settings.region, call.caller.project_id)})

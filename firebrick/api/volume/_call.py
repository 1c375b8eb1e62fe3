"""What every volume API handler starts from: the caller, the version, the node."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._middleware import RESPONSE_HEADERS_KEY
from firebrick.api.auth import authenticate
from firebrick.api.errors import HttpFault
from firebrick.api.microversion import Version, VersionRange, negotiate
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["VOLUME_VERSIONS", "VolumeCall", "volume_endpoint"]

VOLUME_VERSIONS = VersionRange("volume", Version(3, 0), Version(3, 71))


@dataclass(frozen=True, slots=True)
class VolumeCall:
    node: Node
    caller: Caller
    version: Version
    url_project: str | None

    @property
    def ports(self) -> Ports:
        return self.node.ports

    def at_least(self, minor: int) -> bool:
        return self.version >= Version(3, minor)

    def authorize(self, rule: str, project_id: str | None = None) -> None:
        """Raises Forbidden when policy refuses the caller."""
        self.node.authorizer.authorize(self.caller, rule, project_id)

    def allowed(self, rule: str, project_id: str | None = None) -> bool:
        return self.node.authorizer.allowed(self.caller, rule, project_id)

    def url(self, *parts: str) -> str:
        """An absolute link under the volume API, in the URL form the request used."""
        base = f"{self.node.settings.public_url}/volume/v3"
        project = f"/{self.url_project}" if self.url_project else ""
        return "/".join([base + project, *parts])

    def bookmark(self, *parts: str) -> str:
        project = f"/{self.url_project}" if self.url_project else ""
        return "/".join([f"{self.node.settings.public_url}/volume{project}", *parts])


Handler = Callable[[Request, VolumeCall], Awaitable[Response]]


def volume_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Negotiate the version, authenticate, and check the project in the URL."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        version = negotiate(request.headers, VOLUME_VERSIONS)
        request.scope[RESPONSE_HEADERS_KEY] += [
            (b"openstack-api-version", f"volume {version}".encode()),
            (b"vary", b"OpenStack-API-Version"),
        ]
        node: Node = request.app.state.node
        caller = authenticate(request, node.identity)
        url_project = request.path_params.get("project_id")
        if url_project is not None and url_project != caller.project_id:
            raise HttpFault(400, "Malformed request url")
        return await handler(request, VolumeCall(node, caller, version, url_project))

    return endpoint

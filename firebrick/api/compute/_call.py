"""What every compute API handler starts from: the caller, the version, the request id.

Compute handlers run their domain calls in a worker thread (``run``): the compute
side talks to the block-storage API over HTTP, possibly this very process, and
must never block the event loop that would answer it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial, wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._middleware import REQUEST_ID_KEY, RESPONSE_HEADERS_KEY
from firebrick.api.auth import authenticate
from firebrick.api.errors import HttpFault
from firebrick.api.microversion import Version, VersionRange, negotiate
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.compute.ports import Request as DomainRequest
from firebrick.domain.model import Caller

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["COMPUTE_VERSIONS", "ComputeCall", "compute_endpoint"]

COMPUTE_VERSIONS = VersionRange("compute", Version(2, 1), Version(2, 89), legacy_header="x-openstack-nova-api-version")

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class ComputeCall:
    node: Node
    caller: Caller
    version: Version
    request_id: str
    token: str
    url_project: str | None

    @property
    def ports(self) -> ComputePorts:
        return self.node.compute

    @property
    def asked(self) -> DomainRequest:
        """Who asks, and under which request id (instance actions are keyed by it)."""
        return DomainRequest(self.caller, self.request_id, self.token)

    def at_least(self, minor: int) -> bool:
        return self.version >= Version(2, minor)

    def authorize(self, rule: str, project_id: str | None = None) -> None:
        """Raises Forbidden when policy refuses the caller."""
        self.node.authorizer.authorize(self.caller, rule, project_id)

    def allowed(self, rule: str, project_id: str | None = None) -> bool:
        return self.node.authorizer.allowed(self.caller, rule, project_id)

    def url(self, *parts: str) -> str:
        project = f"/{self.url_project}" if self.url_project else ""
        return "/".join([f"{self.node.settings.public_url}/compute/v2.1{project}", *parts])

    def bookmark(self, *parts: str) -> str:
        project = f"/{self.url_project}" if self.url_project else ""
        return "/".join([f"{self.node.settings.public_url}/compute{project}", *parts])

    async def run(self, func: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a domain call off the event loop."""
        return await run_in_threadpool(partial(func, *args, **kwargs))


Handler = Callable[[Request, ComputeCall], Awaitable[Response]]


def compute_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Negotiate the version (echoed in both headers), authenticate, check the project in the URL."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        version = negotiate(request.headers, COMPUTE_VERSIONS)
        request.scope[RESPONSE_HEADERS_KEY] += [
            (b"openstack-api-version", f"compute {version}".encode()),
            (b"x-openstack-nova-api-version", str(version).encode()),
            (b"vary", b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
        ]
        node: Node = request.app.state.node
        caller = authenticate(request, node.identity)
        url_project = request.path_params.get("project_id")
        if url_project is not None and url_project != caller.project_id and not caller.is_admin:
            raise HttpFault(400, "Malformed request URL: URL's project_id does not match Context's project_id.")
        token = request.headers["x-auth-token"]
        call = ComputeCall(node, caller, version, request.scope[REQUEST_ID_KEY], token, url_project)
        return await handler(request, call)

    return endpoint

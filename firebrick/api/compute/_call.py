"""What every compute API handler starts from: the caller, the version, the request id.

Compute handlers have a thread pool of their own: they call the block-storage API
over HTTP, possibly this very process, whose handlers need worker threads too;
sharing one pool, a burst of compute requests could hold every thread while
waiting for answers that need one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from anyio import CapacityLimiter
from starlette.requests import Request

from firebrick.api._call import Call, endpoint, request_node
from firebrick.api._middleware import REQUEST_ID_KEY, RESPONSE_HEADERS_KEY
from firebrick.api.auth import authenticate
from firebrick.api.errors import HttpFault
from firebrick.api.microversion import Version, VersionRange, negotiate
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.compute.ports import Request as DomainRequest

__all__ = ["COMPUTE_VERSIONS", "ComputeCall", "compute_endpoint"]

COMPUTE_VERSIONS = VersionRange("compute", Version(2, 1), Version(2, 89), legacy_header="x-openstack-nova-api-version")
_THREADS = CapacityLimiter(40)  # as many as anyio's default pool, which the other APIs use


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeCall(Call):
    version: Version
    request_id: str
    token: str

    _API: ClassVar[str] = "compute"
    _ROOT: ClassVar[str] = "v2.1"

    @property
    def ports(self) -> ComputePorts:
        return self.node.compute

    @property
    def asked(self) -> DomainRequest:
        """Who asks, and under which request id (instance actions are keyed by it)."""
        return DomainRequest(self.caller, self.request_id, self.token)

    def at_least(self, minor: int) -> bool:
        return self.version >= Version(2, minor)


def _start(request: Request) -> ComputeCall:
    """Negotiate the version (echoed in both headers), authenticate, check the project in the URL."""
    version = negotiate(request.headers, COMPUTE_VERSIONS)
    request.scope[RESPONSE_HEADERS_KEY] += [
        (b"openstack-api-version", f"compute {version}".encode()),
        (b"x-openstack-nova-api-version", str(version).encode()),
        (b"vary", b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
    ]
    node = request_node(request)
    caller = authenticate(request, node.identity)
    url_project = request.path_params.get("project_id")
    if url_project is not None and url_project != caller.project_id and not caller.is_admin:
        raise HttpFault(400, "Malformed request URL: URL's project_id does not match Context's project_id.")
    return ComputeCall(
        node=node,
        caller=caller,
        version=version,
        request_id=request.scope[REQUEST_ID_KEY],
        token=request.headers["x-auth-token"],
        url_project=url_project,
    )


compute_endpoint = endpoint(_start, _THREADS)

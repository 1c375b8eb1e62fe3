"""What every volume API handler starts from: the caller, the version, the node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from starlette.requests import Request

from firebrick.api._call import Call, endpoint, request_node
from firebrick.api._middleware import RESPONSE_HEADERS_KEY
from firebrick.api.auth import authenticate
from firebrick.api.errors import HttpFault
from firebrick.api.microversion import Version, VersionRange, negotiate
from firebrick.domain.ports import Ports

__all__ = ["VOLUME_VERSIONS", "VolumeCall", "volume_endpoint"]

VOLUME_VERSIONS = VersionRange("volume", Version(3, 0), Version(3, 71))


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeCall(Call):
    version: Version

    _API: ClassVar[str] = "volume"
    _ROOT: ClassVar[str] = "v3"

    @property
    def ports(self) -> Ports:
        return self.node.ports

    def at_least(self, minor: int) -> bool:
        return self.version >= Version(3, minor)


def _start(request: Request) -> VolumeCall:
    """Negotiate the version, authenticate, and check the project in the URL."""
    version = negotiate(request.headers, VOLUME_VERSIONS)
    request.scope[RESPONSE_HEADERS_KEY] += [
        (b"openstack-api-version", f"volume {version}".encode()),
        (b"vary", b"OpenStack-API-Version"),
    ]
    node = request_node(request)
    caller = authenticate(request, node.identity)
    url_project = request.path_params.get("project_id")
    if url_project is not None and url_project != caller.project_id:
        raise HttpFault(400, "Malformed request url")
    return VolumeCall(node=node, caller=caller, version=version, url_project=url_project)


volume_endpoint = endpoint(_start)

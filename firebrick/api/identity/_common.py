"""Shared pieces of the identity API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request

from firebrick.api._call import Call, endpoint, request_node
from firebrick.api.auth import authenticate

if TYPE_CHECKING:
    from firebrick.domain.identity import IdentityService

__all__ = [
    "IdentityCall",
    "collection",
    "enabled_filter",
    "identity_endpoint",
    "keystone_time",
    "query_flag",
]


def keystone_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityCall(Call):
    """An authenticated identity request: who calls, and the node answering."""

    _API: ClassVar[str] = "identity"
    _ROOT: ClassVar[str] = "v3"

    @property
    def identity(self) -> IdentityService:
        return self.node.identity


def _start(request: Request) -> IdentityCall:
    """Raises NotAuthenticated when the request has no valid token."""
    node = request_node(request)
    return IdentityCall(node=node, caller=authenticate(request, node.identity))


identity_endpoint = endpoint(_start)


def collection(request: Request, key: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    """A Keystone list body: the members and the (single-page) links."""
    return {key: members, "links": {"self": str(request.url), "previous": None, "next": None}}


def query_flag(request: Request, name: str) -> bool:
    """Keystone's reading of a flag in the query: present and not ``0`` is true (``?effective``)."""
    return name in request.query_params and request.query_params[name] != "0"


def enabled_filter(request: Request) -> bool | None:
    """The ``enabled`` filter of a list, if any."""
    value = request.query_params.get("enabled")
    if value is None:
        return None
    return value.lower() not in ("0", "false", "f", "no", "n", "off")

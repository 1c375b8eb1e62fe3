"""Shared pieces of the identity API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from firebrick.api.auth import authenticate
from firebrick.domain.model import Caller

if TYPE_CHECKING:
    from firebrick.domain.identity import IdentityService
    from firebrick.node import Node

__all__ = [
    "IdentityCall",
    "caller",
    "collection",
    "enabled_filter",
    "identity_call",
    "identity_node",
    "keystone_time",
    "query_flag",
]


def identity_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def caller(request: Request) -> Caller:
    """Raises NotAuthenticated when the request has no valid token."""
    return authenticate(request, identity_node(request).identity)


def keystone_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class IdentityCall:
    """An authenticated identity request: who calls, and the node answering."""

    node: Node
    caller: Caller

    @property
    def identity(self) -> IdentityService:
        return self.node.identity

    def authorize(self, rule: str, target: Mapping[str, str] | None = None) -> None:
        """Raises Forbidden when policy refuses the caller; ``target`` as Keystone names it
        (``{"target.user.id": …}``)."""
        self.node.authorizer.authorize(self.caller, rule, target=target)

    def allowed(self, rule: str) -> bool:
        return self.node.authorizer.allowed(self.caller, rule)

    def link(self, *parts: str) -> str:
        """An absolute URL under ``/identity/v3``."""
        return "/".join([f"{self.node.settings.public_url}/identity/v3", *parts])


def identity_call(request: Request) -> IdentityCall:
    """Raises NotAuthenticated when the request has no valid token."""
    return IdentityCall(identity_node(request), caller(request))


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

"""Shared pieces of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from starlette.requests import Request

from firebrick.api.auth import authenticate
from firebrick.domain.model import Caller

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["caller", "identity_node", "keystone_time"]


def identity_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def caller(request: Request) -> Caller:
    """Raises NotAuthenticated when the request has no valid token."""
    return authenticate(request, identity_node(request).identity)


def keystone_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""What every image API handler starts from: the caller and the node (Glance has no microversions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api.auth import authenticate
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["ImageCall", "image_endpoint"]


@dataclass(frozen=True, slots=True)
class ImageCall:
    node: Node
    caller: Caller

    @property
    def ports(self) -> Ports:
        return self.node.ports

    def authorize(self, rule: str, project_id: str | None = None) -> None:
        """Raises Forbidden when policy refuses the caller (on ``project_id``'s resource)."""
        self.node.authorizer.authorize(self.caller, rule, project_id)

    def url(self, *parts: str) -> str:
        """An absolute link under the image API."""
        return "/".join([f"{self.node.settings.public_url}/image", *parts])


Handler = Callable[[Request, ImageCall], Awaitable[Response]]


def image_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, then call the handler with the caller."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        node: Node = request.app.state.node
        return await handler(request, ImageCall(node, authenticate(request, node.identity)))

    return endpoint

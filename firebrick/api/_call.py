"""What every API handler starts from, and the one rule for running it: off the event loop.

A handler is a plain function ``(request, call) -> Response``. Its endpoint runs it,
authentication included, in a worker thread: SQL, ``qemu-img``, scrypt and the
compute side's HTTP calls all block, and none of them may stall the loop that
serves every other request. A handler reads the body through ``api._json``'s
``json_body`` or ``read_body``, which hop back to the loop for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, ClassVar, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import Response

from firebrick.domain.model import Caller

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["Call", "Endpoint", "endpoint", "off_loop", "request_node"]

Endpoint = Callable[[Request], Awaitable[Response]]
_C = TypeVar("_C", bound="Call")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """An authenticated request: who calls, the node answering, and the project named in the URL.

    ``_API`` and ``_ROOT`` place the API's links: ``{public_url}/{_API}/{_ROOT}/{project}/…``.
    """

    node: Node
    caller: Caller
    url_project: str | None = None

    _API: ClassVar[str] = ""
    _ROOT: ClassVar[str] = ""

    def authorize(self, rule: str, project_id: str | None = None, target: Mapping[str, str] | None = None) -> None:
        """Raises Forbidden when policy refuses the caller on ``project_id``'s resource; ``target`` adds
        what Keystone's rules name (``{"target.user.id": …}``)."""
        self.node.authorizer.authorize(self.caller, rule, project_id, target)

    def allowed(self, rule: str, project_id: str | None = None) -> bool:
        return self.node.authorizer.allowed(self.caller, rule, project_id)

    def url(self, *parts: str) -> str:
        """An absolute link under the API's versioned root, in the URL form the request used."""
        return self._link((self._ROOT,) if self._ROOT else (), parts)

    def bookmark(self, *parts: str) -> str:
        """The same link without the version: Cinder's and Nova's ``bookmark``."""
        return self._link((), parts)

    def _link(self, root: tuple[str, ...], parts: tuple[str, ...]) -> str:
        project = (self.url_project,) if self.url_project else ()
        return "/".join([self.node.settings.public_url, self._API, *root, *project, *parts])


def request_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def off_loop(handler: Callable[[Request], Response], limiter: CapacityLimiter | None = None) -> Endpoint:
    """The endpoint that runs ``handler`` in a worker thread (of ``limiter``'s pool, or anyio's default)."""

    @wraps(handler)
    async def run(request: Request) -> Response:
        return await anyio.to_thread.run_sync(handler, request, limiter=limiter)

    return run


def endpoint(
    start: Callable[[Request], _C], limiter: CapacityLimiter | None = None
) -> Callable[[Callable[[Request, _C], Response]], Endpoint]:
    """A decorator: ``start`` makes the call (authenticating), then the handler answers; both off the loop."""

    def decorate(handler: Callable[[Request, _C], Response]) -> Endpoint:
        @wraps(handler)
        def started(request: Request) -> Response:
            return handler(request, start(request))

        return off_loop(started, limiter)

    return decorate

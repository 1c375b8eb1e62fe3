"""The one ASGI application: every API under its DevStack-style prefix."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router

from firebrick.api._json import JSONResponse
from firebrick.api._middleware import OpenStackMiddleware
from firebrick.api.compute import versions as compute_versions
from firebrick.api.compute.routes import routes as compute_routes
from firebrick.api.errors import fault_body
from firebrick.api.identity import reads as identity_reads
from firebrick.api.identity.routes import routes as identity_routes
from firebrick.api.image import versions as image_versions
from firebrick.api.image.routes import routes as image_routes
from firebrick.api.volume import versions as volume_versions
from firebrick.api.volume.routes import routes as volume_routes

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["build_app"]


async def _root(request: Request) -> Response:
    base = request.app.state.node.settings.public_url
    apis = {name: f"{base}/{name}" for name in ("identity", "volume", "compute", "image")}
    return JSONResponse({"name": "firebrick", "apis": apis})


async def _http_fault(request: Request, error: Exception) -> Response:
    # Starlette's own 404/405 (no route, wrong method), in OpenStack's shape.
    assert isinstance(error, HTTPException)
    messages = {404: "The resource could not be found.", 405: "The method is not allowed for the requested URL."}
    message = messages.get(error.status_code, str(error.detail))
    return JSONResponse(fault_body(error.status_code, message), error.status_code, headers=error.headers)


def _mount(path: str, routes: list[BaseRoute]) -> Mount:
    # No slash redirects: "/volumes/" must be a 404, as tempest checks, not a redirect to "/volumes".
    return Mount(path, app=Router(routes=routes, redirect_slashes=False))


def build_app(node: Node, manage_node: bool = True) -> Starlette:
    """The application; with ``manage_node`` its lifespan starts and stops the node."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage_node:
            node.start()
        # What start-up made (modules, tables, policy rules) lives as long as the process:
        # move it out of the collector's view so full collections stay short.
        gc.freeze()
        try:
            yield
        finally:
            if manage_node:
                node.stop()

    app = Starlette(
        routes=[
            Route("/", _root, methods=["GET"]),
            # Clients discover versions at the bare prefix too (keystoneauth does, at /identity).
            Route("/identity", identity_reads.root, methods=["GET"]),
            Route("/volume", volume_versions.root, methods=["GET"]),
            Route("/image", image_versions.root, methods=["GET"]),
            Route("/compute", compute_versions.root, methods=["GET"]),
            _mount("/identity", identity_routes()),
            _mount("/volume", volume_routes()),
            _mount("/image", image_routes()),
            _mount("/compute", compute_routes()),
        ],
        middleware=[Middleware(OpenStackMiddleware, public_url=node.settings.public_url)],
        exception_handlers={HTTPException: _http_fault},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.node = node
    return app

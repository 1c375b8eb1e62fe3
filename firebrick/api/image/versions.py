"""Version documents at ``/image/`` (300, as Glance answers at its root) and ``/image/versions`` (200)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse

__all__ = ["root", "versions"]

# The subset served is that of v2.9 (deactivation 2.3, os_hidden 2.7, os_hash 2.7); no import API.
_CURRENT = 9


def _document(request: Request) -> dict[str, Any]:
    href = f"{request.app.state.node.settings.public_url}/image/v2/"
    return {
        "versions": [
            {"id": f"v2.{minor}", "status": "CURRENT" if minor == _CURRENT else "SUPPORTED",
             "links": [{"rel": "self", "href": href}]}
            for minor in range(_CURRENT, -1, -1)
        ]
    }  # fmt: skip


async def root(request: Request) -> Response:
    return JSONResponse(_document(request), 300)


async def versions(request: Request) -> Response:
    return JSONResponse(_document(request))

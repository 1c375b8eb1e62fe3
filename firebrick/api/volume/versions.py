"""Version documents at ``/volume/`` (300, the list) and ``/volume/v3/`` (200)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.volume._call import VOLUME_VERSIONS

__all__ = ["root", "v3"]


def _document(request: Request) -> dict[str, Any]:
    public_url = request.app.state.node.settings.public_url
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": str(VOLUME_VERSIONS.maximum),
                "min_version": str(VOLUME_VERSIONS.minimum),
                "updated": "2023-08-31T00:00:00Z",
                "links": [
                    {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                    {"rel": "self", "href": f"{public_url}/volume/v3/"},
                ],
                "media-types": [
                    {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
                ],
            }
        ]
    }


async def root(request: Request) -> Response:
    return JSONResponse(_document(request), 300)


async def v3(request: Request) -> Response:
    return JSONResponse(_document(request))

"""Version documents at ``/compute/`` and ``/compute/v2.1`` (unauthenticated, as in Nova)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.compute._call import COMPUTE_VERSIONS

__all__ = ["root", "v2_1"]


def _v2_1(public_url: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(COMPUTE_VERSIONS.maximum),
        "min_version": str(COMPUTE_VERSIONS.minimum),
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{public_url}/compute/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


async def root(request: Request) -> Response:
    public_url = request.app.state.node.settings.public_url
    v2_0 = {
        "id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "", "updated": "2025-07-04T12:00:00Z",
        "links": [{"rel": "self", "href": f"{public_url}/compute/v2/"}],
    }  # fmt: skip
    v2_1 = {key: value for key, value in _v2_1(public_url).items() if key != "media-types"}
    v2_1["links"] = v2_1["links"][:1]
    return JSONResponse({"versions": [v2_0, v2_1]})


async def v2_1(request: Request) -> Response:
    return JSONResponse({"version": _v2_1(request.app.state.node.settings.public_url)})

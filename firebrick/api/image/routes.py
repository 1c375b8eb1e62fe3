"""The Image v2 route table, mounted at ``/image`` (clients append ``/v2/...`` to the catalog URL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from firebrick.api.image import actions, data, images, versions

__all__ = ["routes"]

Endpoint = Callable[[Request], Awaitable[Response]]

_RESOURCES: list[tuple[str, str, Endpoint]] = [
    ("/v2/images", "GET", images.index),
    ("/v2/images", "POST", images.create),
    ("/v2/images/{image_id}", "GET", images.show),
    ("/v2/images/{image_id}", "PATCH", images.update),
    ("/v2/images/{image_id}", "DELETE", images.delete),
    ("/v2/images/{image_id}/file", "PUT", data.upload),
    ("/v2/images/{image_id}/file", "GET", data.download),
    ("/v2/images/{image_id}/actions/deactivate", "POST", actions.deactivate),
    ("/v2/images/{image_id}/actions/reactivate", "POST", actions.reactivate),
]


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    async def by_method(request: Request) -> Response:
        return await endpoints[request.method if request.method != "HEAD" else "GET"](request)

    return by_method


def routes() -> list[BaseRoute]:
    # Methods of one path share a Route, so that a wrong method is a 405, not a 404.
    by_path: dict[str, dict[str, Endpoint]] = {}
    for path, method, endpoint in _RESOURCES:
        by_path.setdefault(path, {})[method] = endpoint
    return [
        Route("/", versions.root, methods=["GET"]),
        Route("/versions", versions.versions, methods=["GET"]),
        *(Route(path, _dispatch(endpoints), methods=list(endpoints)) for path, endpoints in by_path.items()),
    ]

"""JSON in and out, with OpenStack's answers for bodies that are not JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api.errors import HttpFault

__all__ = ["JSONResponse", "empty", "read_json"]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def empty(status: int) -> Response:
    return Response(status_code=status)


async def read_json(request: Request) -> Any:
    """The request body as JSON.

    Raises:
        HttpFault: 415 for a non-JSON content type, 400 for a body that does not parse.
    """
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpFault(415, "Unsupported Content-Type")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise HttpFault(400, "Malformed request body") from error

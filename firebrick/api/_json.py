"""JSON in and out, with OpenStack's answers for bodies that are not JSON."""

from __future__ import annotations

from typing import Any

import anyio.from_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api.errors import HttpFault

__all__ = ["JSONResponse", "empty", "json_body", "read_body"]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def empty(status: int) -> Response:
    return Response(status_code=status)


def read_body(request: Request) -> bytes:
    """The request body, from a handler's worker thread (read on the event loop, which owns the stream)."""
    return anyio.from_thread.run(request.body)


def json_body(request: Request) -> Any:
    """The request body as JSON, from a handler's worker thread.

    Raises:
        HttpFault: 415 for a non-JSON content type, 400 for a body that does not parse.
    """
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpFault(415, "Unsupported Content-Type")
    try:
        return orjson.loads(read_body(request))
    except orjson.JSONDecodeError as error:
        raise HttpFault(400, "Malformed request body") from error

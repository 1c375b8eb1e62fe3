"""The outermost layer of every request: request ids, version echo, fault bodies.

Everything raised below (a domain ``FirebrickError`` or an ``HttpFault``)
becomes an OpenStack fault here, through ``api.errors``; anything else is a
500 whose details go to the log, not to the caller.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firebrick.api.errors import HttpFault, fault_body, fault_for
from firebrick.errors import FirebrickError, NotAuthenticated

__all__ = ["REQUEST_ID_KEY", "RESPONSE_HEADERS_KEY", "OpenStackMiddleware"]

log = logging.getLogger(__name__)

# Handlers put extra response headers (the negotiated microversion) here.
RESPONSE_HEADERS_KEY = "firebrick.response_headers"
# The request's id (``req-<uuid>``): Nova keys instance actions by it.
REQUEST_ID_KEY = "firebrick.request_id"


class OpenStackMiddleware:
    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        extra: list[tuple[bytes, bytes]] = []
        scope[RESPONSE_HEADERS_KEY] = extra
        scope[REQUEST_ID_KEY] = request_id
        started = False

        async def send_with_ids(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-openstack-request-id", request_id.encode()),
                    (b"x-compute-request-id", request_id.encode()),
                ]
                message["headers"] = headers + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        except Exception as error:  # noqa: BLE001 - the single place where any error becomes a fault body
            if started:
                raise
            await _send_fault(send_with_ids, scope, error, self.public_url)


async def _send_fault(send: Send, scope: Scope, error: Exception, public_url: str) -> None:
    status, message, headers = _describe(error, scope)
    if status == 401:
        headers["WWW-Authenticate"] = f'Keystone uri="{public_url}/identity"'
    # Keystone, and keystonemiddleware in front of every other OpenStack API, answer in this shape.
    keystone_shape = status == 401 or scope["path"].startswith("/identity")
    if keystone_shape:
        body = _keystone_error(status, message)
    elif scope["path"].startswith("/image"):
        body = _glance_error(status, message)
    else:
        body = fault_body(status, message)
    raw = orjson.dumps(body)
    header_list = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    header_list += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": header_list})
    await send({"type": "http.response.body", "body": raw})


def _describe(error: Exception, scope: Scope) -> tuple[int, str, dict[str, str]]:
    if isinstance(error, FirebrickError):
        if isinstance(error, NotAuthenticated):
            return 401, error.message, {}
        return fault_for(error)
    if isinstance(error, HttpFault):
        return error.status, error.message, dict(error.headers)
    log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
    return 500, "The server has either erred or is incapable of performing the requested operation.", {}


def _glance_error(status: int, message: str) -> dict[str, Any]:
    # Glance's faults are webob's, which answer a JSON client in this shape.
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {"message": message, "code": f"{status} {title}", "title": title}


def _keystone_error(status: int, message: str) -> dict[str, Any]:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
    return {"error": {"code": status, "message": message, "title": titles.get(status, "Error")}}

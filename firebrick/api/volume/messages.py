"""``/messages`` (3.3+): the user messages that report asynchronous failures."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty
from firebrick.api.volume._call import VolumeCall, volume_endpoint
from firebrick.domain import messages
from firebrick.domain.model import Message
from firebrick.errors import NotFound

__all__ = ["delete", "index", "show"]


def _require_3_3(call: VolumeCall) -> None:
    if not call.at_least(3):
        raise NotFound("Resource", "messages", "")  # Cinder: a method above the version is a bare 404


def _view(call: VolumeCall, message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.id,
        "event_id": message.event_id,
        "user_message": message.user_message,
        "message_level": message.message_level,
        "created_at": message.created_at,
        "guaranteed_until": message.expires_at,
        "request_id": message.request_id,
        "links": [
            {"rel": "self", "href": call.url("messages", message.id)},
            {"rel": "bookmark", "href": call.bookmark("messages", message.id)},
        ],
    }
    if message.resource_type:
        body["resource_type"] = message.resource_type
    if message.resource_uuid:
        body["resource_uuid"] = message.resource_uuid
    return body


@volume_endpoint
def index(request: Request, call: VolumeCall) -> Response:
    _require_3_3(call)
    call.authorize("message:get_all")
    found = messages.list_messages(call.ports, call.caller, request.query_params.get("resource_uuid"))
    return JSONResponse({"messages": [_view(call, m) for m in found]})


@volume_endpoint
def show(request: Request, call: VolumeCall) -> Response:
    _require_3_3(call)
    found = messages.show_message(call.ports, call.caller, request.path_params["message_id"])
    call.authorize("message:get", found.project_id)
    return JSONResponse({"message": _view(call, found)})


@volume_endpoint
def delete(request: Request, call: VolumeCall) -> Response:
    _require_3_3(call)
    found = messages.show_message(call.ports, call.caller, request.path_params["message_id"])
    call.authorize("message:delete", found.project_id)
    messages.delete_message(call.ports, call.caller, found.id)
    return empty(204)

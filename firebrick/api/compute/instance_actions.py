"""``/servers/{server_id}/os-instance-actions``: list, and show with events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.compute.views import action_view
from firebrick.domain.compute import actions
from firebrick.domain.model import Server

__all__ = ["index", "show"]


def _server(request: Request, call: ComputeCall) -> Server:
    # From 2.21 the actions of a deleted server stay visible.
    return actions.acted_on_server(call.ports, call.caller, request.path_params["server_id"], call.at_least(21))


@compute_endpoint
def index(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-instance-actions:list", server.project_id)
    found = actions.list_actions(call.ports, server)
    return JSONResponse({"instanceActions": [action_view(call, a, with_events=False) for a in found]})


@compute_endpoint
def show(request: Request, call: ComputeCall) -> Response:
    server = _server(request, call)
    call.authorize("os_compute_api:os-instance-actions:show", server.project_id)
    found = actions.show_action(call.ports, server, request.path_params["request_id"])
    return JSONResponse({"instanceAction": action_view(call, found, with_events=True)})

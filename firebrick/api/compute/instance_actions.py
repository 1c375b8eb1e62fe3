"""``/servers/{server_id}/os-instance-actions``: list, and show with events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.compute._call import ComputeCall, compute_endpoint
from firebrick.api.compute.views import action_view
from firebrick.domain.compute import actions
from firebrick.domain.compute._lookup import visible_server
from firebrick.domain.model import Server
from firebrick.errors import NotFound

__all__ = ["index", "show"]


def _server(call: ComputeCall, server_id: str) -> Server:
    # From 2.21 the actions of a deleted server stay visible.
    if call.at_least(21):
        found = call.ports.servers.get(
            server_id, None if call.caller.is_admin else call.caller.project_id, deleted=True
        )
        if found is None:
            raise NotFound("Instance", server_id, f"Instance {server_id} could not be found.")
        return found
    return visible_server(call.ports, call.caller, server_id)


@compute_endpoint
async def index(request: Request, call: ComputeCall) -> Response:
    server = await call.run(_server, call, request.path_params["server_id"])
    call.authorize("os_compute_api:os-instance-actions:list", server.project_id)
    found = await call.run(actions.list_actions, call.ports, server)
    return JSONResponse({"instanceActions": [action_view(call, a, with_events=False) for a in found]})


@compute_endpoint
async def show(request: Request, call: ComputeCall) -> Response:
    server = await call.run(_server, call, request.path_params["server_id"])
    call.authorize("os_compute_api:os-instance-actions:show", server.project_id)
    found = await call.run(actions.show_action, call.ports, server, request.path_params["request_id"])
    return JSONResponse({"instanceAction": action_view(call, found, with_events=True)})

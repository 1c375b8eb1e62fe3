"""Instance actions (Nova's os-instance-actions): what was asked of a server, and how each step ended.

An action is recorded when the API accepts a request, under that request's id;
the worker steps that carry it out record events (``compute_attach_volume`` …)
that end ``Success`` or ``Error``, an error marking the action's message ``Error``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from firebrick.clock import utcnow
from firebrick.domain.compute._lookup import visible_server
from firebrick.domain.compute.ports import ComputePorts, Request
from firebrick.domain.model import ActionEvent, Caller, InstanceAction, Server
from firebrick.domain.volume.lookup import scope
from firebrick.errors import NotFound

__all__ = ["acted_on_server", "event", "list_actions", "record", "show_action"]


def record(ports: ComputePorts, asked: Request, server: Server, action: str) -> InstanceAction:
    started = InstanceAction(
        id=str(uuid.uuid4()),
        request_id=asked.request_id,
        instance_uuid=server.id,
        action=action,
        user_id=asked.caller.user_id,
        project_id=server.project_id,
        start_time=utcnow(),
    )
    ports.actions.start(started)
    return started


@contextmanager
def event(ports: ComputePorts, action_id: str | None, name: str) -> Iterator[None]:
    """Record the step ``name`` of an action around the block: Success, or Error with the reason (re-raised)."""
    if action_id is None:
        yield
        return
    step = ActionEvent(id=str(uuid.uuid4()), action_id=action_id, event=name, start_time=utcnow(), host=ports.node)
    ports.actions.start_event(step)
    try:
        yield
    except Exception as error:
        ports.actions.finish_event(step.id, "Error", str(error), f"{type(error).__name__}: {error}")
        raise
    ports.actions.finish_event(step.id, "Success", None, None)


def acted_on_server(ports: ComputePorts, caller: Caller, server_id: str, deleted: bool) -> Server:
    """The server whose actions the caller asks for; with ``deleted``, also one deleted since.

    Raises NotFound when there is no such server in the caller's reach.
    """
    if not deleted:
        return visible_server(ports, caller, server_id)
    found = ports.servers.get(server_id, scope(caller), deleted=True)
    if found is None:
        raise NotFound("Instance", server_id, f"Instance {server_id} could not be found.")
    return found


def list_actions(ports: ComputePorts, server: Server) -> list[InstanceAction]:
    return ports.actions.of_server(server.id)


def show_action(ports: ComputePorts, server: Server, request_id: str) -> InstanceAction:
    """Raises NotFound for a request id that did nothing to this server."""
    found = ports.actions.get(server.id, request_id)
    if found is None:
        raise NotFound("InstanceAction", request_id, f"Action {request_id} not found")
    return found

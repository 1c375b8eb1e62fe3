"""``/v3/projects/{project}/users/{user}/roles[/{role}]``: a user's roles on a project.

Grant (PUT), check (HEAD or GET), revoke (DELETE), all answering 204 without a body, and
the list of the roles granted.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty
from firebrick.api.identity._common import IdentityCall, collection, identity_endpoint
from firebrick.api.identity._views import role_view
from firebrick.domain.identity import roles

__all__ = ["check", "grant", "index", "revoke"]


def _authorized(request: Request, call: IdentityCall, rule: str) -> tuple[str, str]:
    project_id, user_id = request.path_params["project_id"], request.path_params["user_id"]
    call.authorize(rule, target={"target.project.id": project_id, "target.user.id": user_id})
    return project_id, user_id


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    project_id, user_id = _authorized(request, call, "identity:list_grants")
    found = roles.user_roles(call.identity, project_id, user_id)
    return JSONResponse(collection(request, "roles", [role_view(call.url(), r) for r in found]))


@identity_endpoint
def grant(request: Request, call: IdentityCall) -> Response:
    project_id, user_id = _authorized(request, call, "identity:create_grant")
    roles.grant(call.identity, project_id, user_id, request.path_params["role_id"])
    return empty(204)


@identity_endpoint
def check(request: Request, call: IdentityCall) -> Response:
    project_id, user_id = _authorized(request, call, "identity:check_grant")
    roles.check_grant(call.identity, project_id, user_id, request.path_params["role_id"])
    return empty(204)


@identity_endpoint
def revoke(request: Request, call: IdentityCall) -> Response:
    project_id, user_id = _authorized(request, call, "identity:revoke_grant")
    roles.revoke(call.identity, project_id, user_id, request.path_params["role_id"])
    return empty(204)

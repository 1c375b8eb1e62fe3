"""``/v3/role_assignments``: who holds which role where, filtered as Keystone filters it.

Filters: ``user.id``, ``scope.project.id``, ``role.id``; flags ``effective`` (implied roles
too) and ``include_names``. Firebrick has no groups, no domain or system assignments and no
inheritance, so a filter on one of those finds nothing, and the combinations Keystone refuses
are refused the same way.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.identity._common import IdentityCall, collection, identity_endpoint, query_flag
from firebrick.api.identity._views import assignment_view
from firebrick.domain.identity import roles
from firebrick.errors import InvalidInput

__all__ = ["index"]

# What Keystone refuses together, with its reason.
_EXCLUSIVE = (
    ("scope.domain.id", "scope.project.id", "Specify a domain or project, not both"),
    ("scope.system", "scope.domain.id", "Specify system or domain, not both"),
    ("scope.system", "scope.project.id", "Specify system or project, not both"),
    ("user.id", "group.id", "Specify a user or group, not both"),
)
# Filters on things firebrick does not have: an assignment list filtered by one is empty.
_ABSENT = ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to")


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:list_role_assignments")
    query, effective = request.query_params, query_flag(request, "effective")
    _check(query, effective, query_flag(request, "include_subtree"))
    if any(query.get(name) for name in _ABSENT):
        found = []
    else:
        found = roles.assignments(
            call.identity,
            user_id=query.get("user.id") or None,
            project_id=query.get("scope.project.id") or None,
            role_id=query.get("role.id") or None,
            effective=effective,
        )
    names = query_flag(request, "include_names")
    return JSONResponse(collection(request, "role_assignments", [assignment_view(call.url(), a, names) for a in found]))


def _check(query: QueryParams, effective: bool, subtree: bool) -> None:
    """Raises InvalidInput for a combination Keystone refuses."""
    for first, second, reason in _EXCLUSIVE:
        if query.get(first) and query.get(second):
            raise InvalidInput(reason)
    if effective and query.get("group.id"):
        raise InvalidInput("Combining effective and group filter will always result in an empty list.")
    if subtree and not query.get("scope.project.id"):
        raise InvalidInput("scope.project.id must be specified if include_subtree is also specified")

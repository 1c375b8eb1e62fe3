"""Who is calling: the token in ``X-Auth-Token``, validated by the identity service.

A service acting for a user (the compute side calling the block-storage side)
sends the user's token and its own in ``X-Service-Token``, as keystonemiddleware
expects; the service token's roles become the caller's ``service_roles``.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request

from firebrick.domain.identity import IdentityService
from firebrick.domain.model import Caller
from firebrick.errors import NotAuthenticated

__all__ = ["authenticate"]


def authenticate(request: Request, identity: IdentityService) -> Caller:
    """Raises NotAuthenticated when the token is missing, forged or expired."""
    token = request.headers.get("x-auth-token")
    if not token:
        raise NotAuthenticated("The request you have made requires authentication.")
    caller, _ = identity.validate(token)
    service_token = request.headers.get("x-service-token")
    if service_token:
        service, _ = identity.validate(service_token)
        caller = replace(caller, service_roles=service.roles)
    return caller

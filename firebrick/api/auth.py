"""Who is calling: the token in ``X-Auth-Token``, validated by the identity service."""

from __future__ import annotations

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
    return caller

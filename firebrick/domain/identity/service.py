"""Authentication: passwords and tokens in, a ``Caller`` and a token out.

Roles imply others as in a Keystone bootstrap: admin implies member, member
implies reader. Role lookups are cached briefly so validating a token on every
request costs a signature check, not a query. A token stops working when its
user or project is deleted or disabled, when the role assignments are gone, or
when it was issued before the user's ``tokens_valid_after`` (a password change):
at once on the node that made the change, within the cache's few seconds on others.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from firebrick.domain.identity.passwords import verify_password
from firebrick.domain.identity.tokens import TokenClaims, TokenSigner
from firebrick.domain.model import Caller, Project, User
from firebrick.errors import NotAuthenticated

if TYPE_CHECKING:
    from firebrick.db import IdentityRepository

__all__ = ["IMPLIED_ROLES", "IdentityService", "ProjectScope"]

IMPLIED_ROLES = {"admin": {"member", "reader"}, "member": {"reader"}}
_ROLE_CACHE_SECONDS = 5.0
_DENIED = "The request you have made requires authentication."


class ProjectScope:
    """How a request names its project: an id, or a name within a domain."""

    def __init__(self, project_id: str | None = None, name: str | None = None) -> None:
        self.project_id, self.name = project_id, name


class IdentityService:
    def __init__(self, repository: IdentityRepository, signer: TokenSigner) -> None:
        self._repo = repository
        self._signer = signer
        # (user, project) -> (cache deadline, role names, the user's tokens_valid_after)
        self._access: dict[tuple[str, str], tuple[float, frozenset[str], datetime | None]] = {}

    @property
    def repository(self) -> IdentityRepository:
        """Where the accounts live; the administration functions work on it."""
        return self._repo

    def forget_access(self) -> None:
        """Drop the cached role lookups: an administrator changed who may do what."""
        self._access.clear()

    def password_login(
        self, user_id: str | None, user_name: str | None, password: str, scope: ProjectScope | None
    ) -> tuple[str, TokenClaims]:
        """Raises NotAuthenticated for an unknown user, a wrong password or an unusable scope."""
        user = self._repo.user(user_id=user_id) if user_id else self._repo.user(name=user_name)
        if user is None or not user.enabled or not verify_password(password, user.password_hash):
            raise NotAuthenticated(_DENIED)
        project = self._project_for(user, scope)
        return self._signer.issue(user.id, project.id, ("password",))

    def local_token(self, user_name: str, project_name: str) -> str:
        """A token for one of this node's own accounts, minted without its password: how the
        node authenticates as its service user to the services it calls.

        Raises NotAuthenticated when the account or its project is missing or disabled."""
        user = self._repo.user(name=user_name)
        if user is None or not user.enabled:
            raise NotAuthenticated(_DENIED)
        project = self._project_for(user, ProjectScope(name=project_name))
        token, _claims = self._signer.issue(user.id, project.id, ("password",))
        return token

    def token_login(self, token: str, scope: ProjectScope | None) -> tuple[str, TokenClaims]:
        """Re-scope an existing token; the new one expires with the old. Raises NotAuthenticated."""
        claims = self._signer.verify(token)
        user = self._repo.user(user_id=claims.user_id)
        if user is None or not user.enabled or _revoked(claims, user.tokens_valid_after):
            raise NotAuthenticated(_DENIED)
        project = self._project_for(user, scope) if scope else self._repo.project(project_id=claims.project_id)
        if project is None:
            raise NotAuthenticated(_DENIED)
        return self._signer.issue(
            user.id, project.id, tuple(dict.fromkeys(claims.methods + ("token",))), claims.expires_at
        )

    def validate(self, token: str) -> tuple[Caller, TokenClaims]:
        """The caller a token stands for. Raises NotAuthenticated when it is invalid or has no role left."""
        claims = self._signer.verify(token)
        roles, valid_after = self._lookup(claims.user_id, claims.project_id)
        if not roles or _revoked(claims, valid_after):
            raise NotAuthenticated(_DENIED)
        return Caller(claims.user_id, claims.project_id, roles), claims

    def roles(self, user_id: str, project_id: str) -> frozenset[str]:
        """Assigned and implied role names (none for a disabled user or project), cached for a few seconds."""
        return self._lookup(user_id, project_id)[0]

    def _lookup(self, user_id: str, project_id: str) -> tuple[frozenset[str], datetime | None]:
        key = (user_id, project_id)
        cached = self._access.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        names, valid_after = self._repo.access(user_id, project_id)
        for name in list(names):
            names |= IMPLIED_ROLES.get(name, set())
        roles = frozenset(names)
        self._access[key] = (time.monotonic() + _ROLE_CACHE_SECONDS, roles, valid_after)
        return roles, valid_after

    def _project_for(self, user: User, scope: ProjectScope | None) -> Project:
        if scope is None:
            project = self._repo.project(project_id=user.default_project_id) if user.default_project_id else None
        elif scope.project_id:
            project = self._repo.project(project_id=scope.project_id)
        else:
            project = self._repo.project(name=scope.name)
        if project is None or not project.enabled or not self.roles(user.id, project.id):
            raise NotAuthenticated(_DENIED)
        return project


def _revoked(claims: TokenClaims, valid_after: datetime | None) -> bool:
    return valid_after is not None and claims.issued_at < valid_after

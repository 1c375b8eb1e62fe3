"""What a token stands for, as its body shows it: the user, the project and the roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from firebrick.domain.model import Project, Role, User
from firebrick.errors import NotAuthenticated

if TYPE_CHECKING:
    from firebrick.domain.identity.service import IdentityService
    from firebrick.domain.identity.tokens import TokenClaims

__all__ = ["TokenSubject", "token_subject"]

_DENIED = "The request you have made requires authentication."


@dataclass(frozen=True, slots=True)
class TokenSubject:
    user: User
    project: Project
    roles: list[Role]  # assigned and implied, in the repository's (name) order


def token_subject(identity: IdentityService, claims: TokenClaims) -> TokenSubject:
    """The user and project the claims name, and the roles the user holds there.

    Raises NotAuthenticated when the user or the project is gone."""
    repo = identity.repository
    user = repo.user(user_id=claims.user_id)
    project = repo.project(project_id=claims.project_id)
    if user is None or project is None:
        raise NotAuthenticated(_DENIED)
    names = identity.roles(user.id, project.id)
    return TokenSubject(user, project, [r for r in repo.roles() if r.name in names])

"""Small helpers of the identity domain tests."""

from __future__ import annotations

from firebrick.domain.identity import IdentityService, ProjectScope, roles


def role(identity: IdentityService, name: str) -> str:
    found = roles.list_roles(identity, name=name)
    assert len(found) == 1
    return found[0].id


def login(identity: IdentityService, user_id: str, password: str, project_id: str) -> str:
    token, _ = identity.password_login(user_id, None, password, ProjectScope(project_id=project_id))
    return token

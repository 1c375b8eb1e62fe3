"""The first users: an admin in project ``admin`` and a member in project ``demo``.

Idempotent: running it again changes nothing but missing pieces (and, when a
password is given, that user's password is not reset — delete the user to
start over).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firebrick.domain.identity.passwords import hash_password
from firebrick.domain.model import Project, Role, User

if TYPE_CHECKING:
    from firebrick.db import IdentityRepository

__all__ = ["ROLE_NAMES", "Account", "bootstrap", "ensure_account"]

ROLE_NAMES = ("admin", "member", "reader", "service")


@dataclass(frozen=True, slots=True)
class Account:
    user_name: str
    project_name: str
    password: str
    roles: tuple[str, ...]


def new_id() -> str:
    """Identity ids are 32 hex characters, as Keystone makes them."""
    return uuid.uuid4().hex


def bootstrap(repo: IdentityRepository, admin: Account, demo: Account) -> None:
    for name in ROLE_NAMES:
        if repo.role(name=name) is None:
            repo.add_role(Role(new_id(), name))
    ensure_account(repo, admin)
    ensure_account(repo, demo)


def ensure_account(repo: IdentityRepository, account: Account) -> User:
    """Create the project, the user and the role assignments that are missing."""
    project = repo.project(name=account.project_name)
    if project is None:
        project = Project(new_id(), account.project_name, description=f"{account.project_name} project")
        repo.add_project(project)
    user = repo.user(name=account.user_name)
    if user is None:
        user = User(new_id(), account.user_name, hash_password(account.password), default_project_id=project.id)
        repo.add_user(user)
    for role_name in account.roles:
        role = repo.role(name=role_name)
        if role is None:
            role = Role(new_id(), role_name)
            repo.add_role(role)
        repo.assign(user.id, project.id, role.id)
    return user

"""Roles, and the grants of a role to a user on a project (Keystone's role assignments).

Roles are global (``domain_id`` null): firebrick has no domain-specific roles. A grant is
idempotent, as Keystone's is. Role implication is the fixed chain of a Keystone bootstrap
(admin implies member, member implies reader); an "effective" listing shows the implied
assignments beside the direct ones, each naming the role that implied it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from firebrick.domain.identity._rules import check_options, duplicate, extra_changes
from firebrick.domain.identity.bootstrap import new_id
from firebrick.domain.identity.projects import get_project
from firebrick.domain.identity.service import IMPLIED_ROLES
from firebrick.domain.identity.users import get_user
from firebrick.domain.model import Role, RoleAssignment
from firebrick.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from firebrick.domain.identity.service import IdentityService

__all__ = [
    "assignments",
    "check_grant",
    "create_role",
    "delete_role",
    "get_role",
    "grant",
    "list_roles",
    "revoke",
    "update_role",
    "user_roles",
]

_FIELDS = frozenset({"id", "name", "description", "domain_id", "options"})


def get_role(identity: IdentityService, role_id: str) -> Role:
    """Raises NotFound when no role has that id."""
    found = identity.repository.role(role_id=role_id)
    if found is None:
        raise NotFound("Role", role_id, f"Could not find role: {role_id}.")
    return found


def list_roles(identity: IdentityService, name: str | None = None, domain_id: str | None = None) -> list[Role]:
    """Every role matching the filters; asking for a domain's own roles finds none."""
    if domain_id:
        return []
    return identity.repository.roles(name=name)


def create_role(identity: IdentityService, body: Mapping[str, Any]) -> Role:
    """Create a global role from a Keystone ``role`` body.

    Raises:
        InvalidInput: the body names a domain (domain-specific roles), or turns on an option.
        Conflict: the name is taken.
    """
    if body.get("domain_id") is not None:
        raise InvalidInput("Domain-specific roles are not supported: domain_id must be null.")
    check_options(body)
    role = Role(
        new_id(),
        body["name"],
        body.get("description"),
        {key: value for key, value in body.items() if key not in _FIELDS},
    )
    if identity.repository.role(name=role.name) is not None:
        raise duplicate("role", role.name, None)
    try:
        identity.repository.add_role(role)
    except Conflict as error:
        raise duplicate("role", role.name, None) from error
    return role


def update_role(identity: IdentityService, role_id: str, body: Mapping[str, Any]) -> Role:
    """Apply a Keystone ``role`` PATCH body.

    Raises NotFound (no such role), InvalidInput (a changed id or domain, an option), Conflict (a taken name).
    """
    current = get_role(identity, role_id)
    if body.get("id", current.id) != current.id or body.get("domain_id") is not None:
        raise InvalidInput("Cannot change the id or the domain of a role.")
    check_options(body)
    fields: dict[str, Any] = {k: body[k] for k in ("name", "description") if k in body}
    extra = extra_changes(current.extra, body, _FIELDS)
    if extra is not None:
        fields["extra"] = extra
    name = fields.get("name", current.name)
    if name != current.name and identity.repository.role(name=name) is not None:
        raise duplicate("role", name, None)
    if fields:
        try:
            identity.repository.update_role(current.id, **fields)
        except Conflict as error:
            raise duplicate("role", name, None) from error
        identity.forget_access()
    return get_role(identity, current.id)


def delete_role(identity: IdentityService, role_id: str) -> None:
    """Delete the role and every assignment of it. Raises NotFound."""
    if not identity.repository.delete_role(role_id):
        raise NotFound("Role", role_id, f"Could not find role: {role_id}.")
    identity.forget_access()


def grant(identity: IdentityService, project_id: str, user_id: str, role_id: str) -> None:
    """Give the user the role on the project; granting it again changes nothing.

    Raises NotFound when the role, the user or the project does not exist.
    """
    get_role(identity, role_id)
    get_user(identity, user_id)
    get_project(identity, project_id)
    identity.repository.assign(user_id, project_id, role_id)
    identity.forget_access()


def revoke(identity: IdentityService, project_id: str, user_id: str, role_id: str) -> None:
    """Take the role away; the user's tokens on the project lose it.

    Raises NotFound when the role or the project does not exist, or the user does not hold the role there.
    """
    get_role(identity, role_id)
    get_project(identity, project_id)
    if not identity.repository.unassign(user_id, project_id, role_id):
        raise _no_assignment(role_id, user_id, project_id)
    identity.forget_access()


def check_grant(identity: IdentityService, project_id: str, user_id: str, role_id: str) -> None:
    """Raises NotFound unless the user holds the role on the project directly."""
    get_role(identity, role_id)
    get_user(identity, user_id)
    get_project(identity, project_id)
    if not identity.repository.is_assigned(user_id, project_id, role_id):
        raise _no_assignment(role_id, user_id, project_id)


def user_roles(identity: IdentityService, project_id: str, user_id: str) -> list[Role]:
    """The roles granted to the user on the project (not the implied ones). Raises NotFound."""
    get_project(identity, project_id)
    get_user(identity, user_id)
    return identity.repository.user_roles(user_id, project_id)


def assignments(
    identity: IdentityService,
    user_id: str | None = None,
    project_id: str | None = None,
    role_id: str | None = None,
    effective: bool = False,
) -> list[RoleAssignment]:
    """The role assignments matching every filter given; with ``effective``, implied ones too
    (the role filter then applies to the implied role, as Keystone applies it)."""
    repo = identity.repository
    if not effective:
        return repo.assignments(user_id=user_id, project_id=project_id, role_id=role_id)
    found = _with_implied(repo.assignments(user_id=user_id, project_id=project_id), repo.roles())
    return [a for a in found if role_id is None or a.role_id == role_id]


def _with_implied(direct: list[RoleAssignment], roles: list[Role]) -> list[RoleAssignment]:
    by_name = {role.name: role for role in roles}
    result = {(a.user_id, a.project_id, a.role_id): a for a in direct}
    for held in direct:
        for implied_name in sorted(IMPLIED_ROLES.get(held.role_name, ())):
            implied = by_name.get(implied_name)
            if implied is None or (held.user_id, held.project_id, implied.id) in result:
                continue
            result[(held.user_id, held.project_id, implied.id)] = RoleAssignment(
                held.user_id, held.user_name, held.project_id, held.project_name, implied.id, implied.name, held.role_id
            )
    return sorted(result.values(), key=lambda a: (a.user_name, a.project_name, a.role_name))


def _no_assignment(role_id: str, user_id: str, project_id: str) -> NotFound:
    return NotFound(
        "RoleAssignment",
        f"{project_id}/{user_id}/{role_id}",
        f"Could not find role assignment with role: {role_id}, user or group: {user_id}, "
        f"project, domain, or system: {project_id}.",
    )

"""Projects, users, roles and domains as Keystone renders them.

Attributes Keystone keeps without knowing them (``extra``) are shown at the top level, under
the known ones, as Keystone merges them.
"""

from __future__ import annotations

from typing import Any

from firebrick.domain.model import Project, Role, RoleAssignment, User

__all__ = ["DOMAIN", "assignment_view", "domain_view", "project_view", "role_view", "user_view"]

DOMAIN = {"id": "default", "name": "Default", "description": "The default domain", "enabled": True}


def project_view(base: str, found: Project) -> dict[str, Any]:
    return {
        **found.extra,
        "id": found.id,
        "name": found.name,
        "domain_id": found.domain_id,
        "description": found.description,
        "enabled": found.enabled,
        "is_domain": False,
        "parent_id": found.domain_id,
        "tags": list(found.tags),
        "options": {},
        "links": {"self": f"{base}/projects/{found.id}"},
    }


def user_view(base: str, found: User) -> dict[str, Any]:
    view = {
        **found.extra,
        "id": found.id,
        "name": found.name,
        "domain_id": found.domain_id,
        "enabled": found.enabled,
        "password_expires_at": None,
        "options": {},
        "links": {"self": f"{base}/users/{found.id}"},
    }
    # Keystone leaves the attribute out rather than showing null.
    if found.default_project_id is not None:
        view["default_project_id"] = found.default_project_id
    return view


def role_view(base: str, found: Role) -> dict[str, Any]:
    return {
        **found.extra,
        "id": found.id,
        "name": found.name,
        "domain_id": None,
        "description": found.description,
        "options": {},
        "links": {"self": f"{base}/roles/{found.id}"},
    }


def domain_view(base: str) -> dict[str, Any]:
    return {**DOMAIN, "tags": [], "options": {}, "links": {"self": f"{base}/domains/{DOMAIN['id']}"}}


def assignment_view(base: str, found: RoleAssignment, names: bool) -> dict[str, Any]:
    """One entry of ``/role_assignments``; an implied one links to the grant that implies it."""
    domain = {"id": DOMAIN["id"], "name": DOMAIN["name"]}
    user: dict[str, Any] = {"id": found.user_id}
    project: dict[str, Any] = {"id": found.project_id}
    role: dict[str, Any] = {"id": found.role_id}
    if names:
        user |= {"name": found.user_name, "domain": domain}
        project |= {"name": found.project_name, "domain": domain}
        role |= {"name": found.role_name}
    granted = found.prior_role_id or found.role_id
    links = {"assignment": f"{base}/projects/{found.project_id}/users/{found.user_id}/roles/{granted}"}
    if found.prior_role_id:
        links["prior_role"] = f"{base}/prior_role/{found.prior_role_id}/implies/{found.role_id}"
    return {"role": role, "user": user, "scope": {"project": project}, "links": links}

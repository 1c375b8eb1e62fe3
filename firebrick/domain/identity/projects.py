"""Projects, as Keystone keeps them, with one domain (``default``) and no hierarchy.

A project's ``parent_id`` is its domain, as for every top-level project in Keystone; a
client may name that parent but no other. Attributes Keystone does not know are kept in
``extra`` and shown back, as Keystone does (``openstack project create --property``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from firebrick.domain.identity._rules import (
    DEFAULT_DOMAIN,
    check_domain,
    check_options,
    duplicate,
    extra_changes,
    refuse_change,
)
from firebrick.domain.identity.bootstrap import new_id
from firebrick.domain.model import Project
from firebrick.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from firebrick.domain.identity.service import IdentityService

__all__ = ["create_project", "delete_project", "get_project", "list_projects", "update_project", "user_projects"]

# What a project body may set besides its name; anything else is an extra attribute.
_FIELDS = frozenset({"id", "name", "description", "enabled", "tags", "domain_id", "parent_id", "is_domain", "options"})


def get_project(identity: IdentityService, project_id: str) -> Project:
    """Raises NotFound when no project has that id."""
    found = identity.repository.project(project_id=project_id)
    if found is None:
        raise NotFound("Project", project_id, f"Could not find project: {project_id}.")
    return found


def list_projects(
    identity: IdentityService,
    name: str | None = None,
    domain_id: str | None = None,
    enabled: bool | None = None,
    member_of: str | None = None,
) -> list[Project]:
    """Every project matching the filters (``member_of``: those the user holds a role on);
    another domain than ``default`` has none."""
    if domain_id is not None and domain_id != DEFAULT_DOMAIN:
        return []
    if member_of is None:
        return identity.repository.projects(name=name, enabled=enabled)
    return [
        p
        for p in identity.repository.user_projects(member_of)
        if name in (None, p.name) and enabled in (None, p.enabled)
    ]


def user_projects(identity: IdentityService, user_id: str, scopable: bool = False) -> list[Project]:
    """The projects on which the user holds a role; ``scopable``: only those a token may be
    scoped to now (enabled), as ``/auth/projects`` lists them."""
    found = identity.repository.user_projects(user_id)
    return [p for p in found if p.enabled] if scopable else found


def create_project(identity: IdentityService, body: Mapping[str, Any]) -> Project:
    """Create a top-level project in the default domain from a Keystone ``project`` body.

    Raises:
        InvalidInput: another domain, a parent other than the domain, ``is_domain`` true, an option set.
        Conflict: the name is taken (Keystone's "Duplicate entry" message).
    """
    try:
        domain_id = check_domain(body.get("domain_id"))
    except NotFound as error:  # Keystone answers a project's unknown domain with 400, a user's with 404
        raise InvalidInput(error.message) from error
    check_options(body)
    if body.get("parent_id") not in (None, domain_id):
        raise InvalidInput("Project hierarchies are not supported: parent_id may only name the domain.")
    if body.get("is_domain"):
        raise InvalidInput("Creating a domain is not supported: only the default domain exists.")
    project = Project(
        new_id(),
        body["name"],
        domain_id,
        body.get("description") or "",
        body.get("enabled", True),
        tuple(body.get("tags") or ()),
        {key: value for key, value in body.items() if key not in _FIELDS},
    )
    if identity.repository.project(name=project.name) is not None:
        raise duplicate("project", project.name, domain_id)
    try:
        identity.repository.add_project(project)
    except Conflict as error:  # a concurrent create took the name
        raise duplicate("project", project.name, domain_id) from error
    return project


def update_project(identity: IdentityService, project_id: str, body: Mapping[str, Any]) -> Project:
    """Apply a Keystone ``project`` PATCH body; a disabled project's tokens stop working.

    Raises:
        NotFound: no such project.
        InvalidInput: the body tries to change the id, domain, parent or ``is_domain``.
        Conflict: the new name is taken.
    """
    current = get_project(identity, project_id)
    refuse_change(body, "id", current.id)
    refuse_change(body, "domain_id", current.domain_id)
    refuse_change(body, "parent_id", current.domain_id)
    refuse_change(body, "is_domain", False)
    check_options(body)
    fields: dict[str, Any] = {k: body[k] for k in ("name", "enabled") if k in body}
    if "description" in body:
        fields["description"] = body["description"] or ""
    if "tags" in body:
        fields["tags"] = list(body["tags"] or ())
    extra = extra_changes(current.extra, body, _FIELDS)
    if extra is not None:
        fields["extra"] = extra
    name = fields.get("name", current.name)
    if name != current.name and identity.repository.project(name=name) is not None:
        raise duplicate("project", name, current.domain_id)
    if fields:
        try:
            identity.repository.update_project(current.id, **fields)
        except Conflict as error:
            raise duplicate("project", name, current.domain_id) from error
        identity.forget_access()
    return get_project(identity, current.id)


def delete_project(identity: IdentityService, project_id: str) -> None:
    """Delete the project and every role assignment on it; tokens scoped to it stop working.

    Raises NotFound when no project has that id. Volumes and servers the project owns are
    left as they are, as Keystone leaves other services' resources.
    """
    if not identity.repository.delete_project(project_id):
        raise NotFound("Project", project_id, f"Could not find project: {project_id}.")
    identity.forget_access()

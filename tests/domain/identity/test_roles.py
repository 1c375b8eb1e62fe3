"""Roles and grants: idempotent grants, Keystone's not-found messages, effective (implied) assignments."""

from __future__ import annotations

import pytest

from firebrick.domain.identity import IdentityService, projects, roles, users
from firebrick.errors import Conflict, InvalidInput, NotFound
from tests.domain.identity._helpers import role


def test_create_update_delete(identity: IdentityService) -> None:
    made = roles.create_role(identity, {"name": "auditor", "description": "reads logs", "level": 3})

    assert (made.description, made.extra) == ("reads logs", {"level": 3})
    with pytest.raises(Conflict, match=r"store role - Duplicate entry found with name auditor\.$"):
        roles.create_role(identity, {"name": "auditor"})
    with pytest.raises(InvalidInput):
        roles.create_role(identity, {"name": "scoped", "domain_id": "default"})
    renamed = roles.update_role(identity, made.id, {"name": "inspector"})
    assert (renamed.name, renamed.description) == ("inspector", "reads logs")
    with pytest.raises(Conflict):
        roles.update_role(identity, made.id, {"name": "member"})
    roles.delete_role(identity, made.id)
    with pytest.raises(NotFound, match=f"Could not find role: {made.id}."):
        roles.get_role(identity, made.id)


def test_grants_are_idempotent_and_revokes_are_checked(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    reader = role(identity, "reader")

    roles.grant(identity, project.id, user.id, reader)
    roles.grant(identity, project.id, user.id, reader)

    assert [r.name for r in roles.user_roles(identity, project.id, user.id)] == ["reader"]
    roles.check_grant(identity, project.id, user.id, reader)
    roles.revoke(identity, project.id, user.id, reader)
    message = (
        f"Could not find role assignment with role: {reader}, user or group: {user.id}, "
        f"project, domain, or system: {project.id}."
    )
    with pytest.raises(NotFound) as missing:
        roles.revoke(identity, project.id, user.id, reader)
    assert missing.value.message == message
    with pytest.raises(NotFound):
        roles.check_grant(identity, project.id, user.id, reader)
    with pytest.raises(NotFound, match="Could not find user: nobody."):
        roles.grant(identity, project.id, "nobody", reader)


def test_effective_assignments_add_the_implied_roles(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    boss, worker = (users.create_user(identity, {"name": n, "password": "pw"}) for n in ("boss", "worker"))
    admin, member, reader = (role(identity, n) for n in ("admin", "member", "reader"))
    roles.grant(identity, project.id, boss.id, admin)
    roles.grant(identity, project.id, boss.id, member)
    roles.grant(identity, project.id, worker.id, member)

    direct = roles.assignments(identity, project_id=project.id)
    effective = roles.assignments(identity, project_id=project.id, effective=True)

    assert {(a.user_name, a.role_name, a.prior_role_id) for a in direct} == {
        ("boss", "admin", None),
        ("boss", "member", None),
        ("worker", "member", None),
    }
    assert {(a.user_name, a.role_name, a.prior_role_id) for a in effective} == {
        ("boss", "admin", None),
        ("boss", "member", None),  # held directly: shown once, as direct
        ("boss", "reader", admin),
        ("worker", "member", None),
        ("worker", "reader", member),
    }
    readers = roles.assignments(identity, role_id=reader, effective=True)
    assert {a.user_name for a in readers} == {"boss", "worker"}
    assert roles.assignments(identity, role_id=reader) == []

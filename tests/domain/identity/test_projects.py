"""Projects: Keystone's rules with one domain and no hierarchy, on a real database."""

from __future__ import annotations

import pytest

from firebrick.domain.identity import IdentityService, projects, roles, users
from firebrick.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from tests.domain.identity._helpers import login, role


def test_create_keeps_unknown_attributes_and_refuses_a_taken_name(identity: IdentityService) -> None:
    made = projects.create_project(identity, {"name": "alpha", "tags": ["x"], "cost_center": "42"})

    assert (made.domain_id, made.description, made.enabled, made.tags) == ("default", "", True, ("x",))
    assert projects.get_project(identity, made.id) == made
    assert made.extra == {"cost_center": "42"}
    with pytest.raises(Conflict, match="store project - Duplicate entry found with name alpha at domain ID default"):
        projects.create_project(identity, {"name": "alpha"})


@pytest.mark.parametrize(
    "body",
    [
        {"name": "b", "domain_id": "other"},
        {"name": "b", "parent_id": "0" * 32},
        {"name": "b", "is_domain": True},
        {"name": "b", "options": {"immutable": True}},
    ],
)
def test_create_refuses_what_firebrick_has_not(identity: IdentityService, body: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        projects.create_project(identity, body)
    assert projects.list_projects(identity, name="b") == []


def test_a_parent_naming_the_domain_is_a_top_level_project(identity: IdentityService) -> None:
    made = projects.create_project(identity, {"name": "top", "parent_id": "default", "options": {"immutable": False}})

    assert made.domain_id == "default" and made.extra == {}


def test_update_merges_extra_attributes(identity: IdentityService) -> None:
    made = projects.create_project(identity, {"name": "alpha", "a": 1})

    updated = projects.update_project(identity, made.id, {"b": 2, "description": None, "enabled": False})

    assert updated.extra == {"a": 1, "b": 2} and updated.description == "" and updated.enabled is False
    with pytest.raises(InvalidInput, match="Cannot change domain_id"):
        projects.update_project(identity, made.id, {"domain_id": "other"})
    with pytest.raises(NotFound, match="Could not find project: nope."):
        projects.update_project(identity, "nope", {"name": "x"})


def test_member_of_lists_only_the_users_projects(identity: IdentityService) -> None:
    mine, other = (projects.create_project(identity, {"name": n}) for n in ("mine", "theirs"))
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    roles.grant(identity, mine.id, user.id, role(identity, "member"))

    assert projects.list_projects(identity, member_of=user.id) == [mine]
    assert projects.list_projects(identity, member_of=user.id, name=other.name) == []
    assert {p.id for p in projects.list_projects(identity)} == {mine.id, other.id}
    assert projects.list_projects(identity, domain_id="other") == []


def test_delete_takes_the_assignments_and_the_tokens_at_once(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    roles.grant(identity, project.id, user.id, role(identity, "member"))
    token = login(identity, user.id, "pw", project.id)
    identity.validate(token)  # fills the role cache

    projects.delete_project(identity, project.id)

    assert identity.repository.assignments(project_id=project.id) == []
    with pytest.raises(NotAuthenticated):  # no waiting for the cache to expire on this node
        identity.validate(token)
    with pytest.raises(NotFound):
        projects.delete_project(identity, project.id)
    assert users.get_user(identity, user.id) == user


def test_a_disabled_project_cannot_be_used_or_scoped_to(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    roles.grant(identity, project.id, user.id, role(identity, "member"))
    token = login(identity, user.id, "pw", project.id)

    projects.update_project(identity, project.id, {"enabled": False})

    with pytest.raises(NotAuthenticated):
        identity.validate(token)
    with pytest.raises(NotAuthenticated):
        login(identity, user.id, "pw", project.id)
    assert projects.user_projects(identity, user.id, scopable=True) == []
    assert [p.id for p in projects.user_projects(identity, user.id)] == [project.id]

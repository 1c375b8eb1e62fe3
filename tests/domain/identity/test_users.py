"""Users: passwords kept hashed, and the changes that void a user's tokens (Keystone's revocations)."""

from __future__ import annotations

import pytest

from firebrick.domain.identity import IdentityService, projects, roles, users
from firebrick.domain.model import Project, User
from firebrick.errors import Conflict, NotAuthenticated, NotFound
from tests.domain.identity._helpers import login, role


@pytest.fixture
def member(identity: IdentityService) -> tuple[User, Project]:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw", "email": "u@example.org"})
    roles.grant(identity, project.id, user.id, role(identity, "member"))
    return user, project


def test_create_hashes_and_keeps_unknown_attributes(identity: IdentityService, member: tuple[User, Project]) -> None:
    user, _ = member

    assert user.password_hash.startswith("scrypt$") and "pw" not in user.password_hash.split("$")[-1:]
    assert user.extra == {"email": "u@example.org"} and user.default_project_id is None
    assert user.tokens_valid_after is None
    with pytest.raises(Conflict, match="store user - Duplicate entry found with name u at domain ID default"):
        users.create_user(identity, {"name": "u"})
    with pytest.raises(NotFound, match="Could not find domain: other."):  # 404, as tempest expects of Keystone
        users.create_user(identity, {"name": "v", "domain_id": "other"})


def test_a_new_password_voids_earlier_tokens(identity: IdentityService, member: tuple[User, Project]) -> None:
    user, project = member
    before = login(identity, user.id, "pw", project.id)
    identity.validate(before)

    changed = users.update_user(identity, user.id, {"password": "pw2"})

    assert changed.tokens_valid_after is not None and changed.password_hash != user.password_hash
    with pytest.raises(NotAuthenticated):
        identity.validate(before)
    with pytest.raises(NotAuthenticated):
        identity.token_login(before, None)
    with pytest.raises(NotAuthenticated):
        login(identity, user.id, "pw", project.id)
    caller, _ = identity.validate(login(identity, user.id, "pw2", project.id))
    assert caller.user_id == user.id and "member" in caller.roles


def test_disabling_voids_tokens_and_only_a_real_disable_counts(
    identity: IdentityService, member: tuple[User, Project]
) -> None:
    user, project = member
    token = login(identity, user.id, "pw", project.id)

    disabled = users.update_user(identity, user.id, {"enabled": False})
    again = users.update_user(identity, user.id, {"enabled": False, "email": "new@example.org"})

    assert disabled.tokens_valid_after is not None and again.tokens_valid_after == disabled.tokens_valid_after
    with pytest.raises(NotAuthenticated):
        identity.validate(token)
    renamed = users.update_user(identity, user.id, {"name": "u2", "enabled": True})
    assert renamed.tokens_valid_after == disabled.tokens_valid_after  # enabling and renaming revoke nothing
    assert identity.validate(login(identity, user.id, "pw", project.id))[0].user_id == user.id


def test_change_password_needs_the_original(identity: IdentityService, member: tuple[User, Project]) -> None:
    user, project = member

    with pytest.raises(NotAuthenticated):
        users.change_password(identity, user.id, "wrong", "pw2")
    assert users.get_user(identity, user.id).password_hash == user.password_hash
    users.change_password(identity, user.id, "pw", "pw2")
    assert identity.validate(login(identity, user.id, "pw2", project.id))[0].user_id == user.id
    with pytest.raises(NotAuthenticated):
        users.change_password(identity, "nobody", "pw", "pw2")


def test_delete_takes_the_assignments_and_the_tokens(identity: IdentityService, member: tuple[User, Project]) -> None:
    user, project = member
    token = login(identity, user.id, "pw", project.id)
    identity.validate(token)

    users.delete_user(identity, user.id)

    assert identity.repository.assignments(user_id=user.id) == []
    with pytest.raises(NotAuthenticated):
        identity.validate(token)
    with pytest.raises(NotFound, match=f"Could not find user: {user.id}."):
        users.delete_user(identity, user.id)
    assert projects.get_project(identity, project.id) == project


def test_a_user_without_a_password_never_authenticates(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "beta"})
    user = users.create_user(identity, {"name": "nopw", "password": None})
    roles.grant(identity, project.id, user.id, role(identity, "member"))

    for attempt in ("", "None", "nopw"):
        with pytest.raises(NotAuthenticated):
            login(identity, user.id, attempt, project.id)

"""What a token stands for: its user, project and (implied) roles, and refusal once either is gone."""

from __future__ import annotations

import pytest

from firebrick.domain.identity import IdentityService, ProjectScope, projects, roles, users
from firebrick.domain.identity.subjects import token_subject
from firebrick.errors import NotAuthenticated
from tests.domain.identity._helpers import role


def test_the_subject_names_the_user_project_and_implied_roles(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    roles.grant(identity, project.id, user.id, role(identity, "member"))
    _, claims = identity.password_login(user.id, None, "pw", ProjectScope(project_id=project.id))

    subject = token_subject(identity, claims)

    assert (subject.user.id, subject.project.id) == (user.id, project.id)
    assert sorted(r.name for r in subject.roles) == ["member", "reader"]


def test_a_deleted_user_or_project_is_refused(identity: IdentityService) -> None:
    project = projects.create_project(identity, {"name": "alpha"})
    user = users.create_user(identity, {"name": "u", "password": "pw"})
    roles.grant(identity, project.id, user.id, role(identity, "reader"))
    _, claims = identity.password_login(user.id, None, "pw", ProjectScope(project_id=project.id))

    users.delete_user(identity, user.id)

    with pytest.raises(NotAuthenticated):
        token_subject(identity, claims)

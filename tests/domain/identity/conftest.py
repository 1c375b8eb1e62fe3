"""The identity service of a real (Alembic-built) database, with Keystone's bootstrap roles."""

from __future__ import annotations

import pytest

from firebrick.domain.identity import ROLE_NAMES, IdentityService, roles
from firebrick.node import Node


@pytest.fixture
def identity(node: Node) -> IdentityService:
    for name in ROLE_NAMES:
        roles.create_role(node.identity, {"name": name})
    return node.identity


"""Fixtures of the identity API tests: the bootstrap admin and demo, and a fresh account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.identity._helpers import Account, Keystone, discard, provision
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, RunningServer, token_for


@pytest.fixture(scope="module")
def ks_admin(server: RunningServer) -> Iterator[Keystone]:
    client = Keystone(server, token_for(server.url, "admin", ADMIN_PASSWORD, "admin"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def ks_demo(server: RunningServer) -> Iterator[Keystone]:
    client = Keystone(server, token_for(server.url, "demo", DEMO_PASSWORD, "demo"))
    yield client
    client.close()


@pytest.fixture
def account(ks_admin: Keystone) -> Iterator[Account]:
    """A fresh member of a fresh project, deleted afterwards."""
    made = provision(ks_admin)
    yield made
    discard(ks_admin, made)

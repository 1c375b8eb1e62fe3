"""Domain fixtures: real database (Alembic-built), fake storage, jobs run by hand.

Running jobs synchronously (``drain``) makes every step's order explicit; the
threaded runner has its own tests in tests/workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.config import BackendSettings
from firebrick.db import upgrade
from firebrick.domain.identity import Account, ensure_account
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume_types import ensure_default_type
from firebrick.node import JOB_KINDS, Node
from tests.conftest import database_url, make_settings


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    urls = database_url(tmp_path)
    backend = BackendSettings(
        name="fake", pool="pool", path=tmp_path / "pool", capacity_gb=10, format="raw", driver="fake"
    )
    built = Node(make_settings(tmp_path, next(urls), backends=(backend,)))
    upgrade(built.settings.database_url)
    ensure_default_type(built.ports)
    yield built
    built.db.dispose()
    next(urls, None)


@pytest.fixture
def ports(node: Node) -> Ports:
    return node.ports


def caller_in(node: Node, project: str, *roles: str) -> Caller:
    user = ensure_account(node.repos.identity, Account(f"user-{project}", project, "pw", roles or ("member",)))
    project_row = node.repos.identity.project(name=project)
    assert project_row is not None
    return Caller(user.id, project_row.id, node.identity.roles(user.id, project_row.id))


@pytest.fixture
def member(node: Node) -> Caller:
    return caller_in(node, "alpha")


@pytest.fixture
def admin_caller(node: Node) -> Caller:
    return caller_in(node, "ops", "admin")


def drain(ports: Ports) -> int:
    """Run every due job of this node in this thread, claimed as the runner claims them, until none
    is due (a job that waits for a callback stays waiting); returns how many steps ran."""
    ran = 0
    while jobs := ports.jobs.claim("drain", [ports.node], limit=100, lease=60):
        for job in jobs:
            with ports.jobs.holding(job) as claim:
                JOB_KINDS[job.kind].run(ports, job)
                if not claim.ended:
                    ports.jobs.release(job)
            ran += 1
    return ran

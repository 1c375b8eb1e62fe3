"""A python-cinderclient beside the raw ApiClient, for tests that drive actions as users' scripts do."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.api.volume._helpers import MEMBER_PASSWORD, fresh_member
from tests.clients.test_cinderclient import Cinder, keystone_session
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer


@dataclass
class Member:
    """One user in a project of its own: raw HTTP for exact faults, cinderclient for the flows."""

    api: ApiClient
    cinder: Cinder


@contextmanager
def cinder_for(server: RunningServer, user: str, password: str, project: str, version: str = "3.0") -> Iterator[Cinder]:
    sess = keystone_session(server, user, password, project)
    try:
        yield Cinder(sess, version)
    finally:
        sess.session.close()


@contextmanager
def admin_cinder(server: RunningServer, version: str = "3.0") -> Iterator[Cinder]:
    with cinder_for(server, "admin", ADMIN_PASSWORD, "admin", version) as cinder:
        yield cinder


@contextmanager
def fresh_cinder_member(server: RunningServer, role: str = "member") -> Iterator[Member]:
    """A user with ``role`` in a brand-new project; its volumes are deleted afterwards."""
    with fresh_member(server, role) as api:
        project = server.node.repos.identity.project(project_id=api.project_id)
        assert project is not None
        # fresh_member names its user after its project.
        with cinder_for(server, project.name, MEMBER_PASSWORD, project.name) as cinder:
            yield Member(api, cinder)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def scribble(path: Path) -> None:
    """Write some bytes a guest might have written, at the start and in the middle of a volume file."""
    with path.open("r+b") as handle:
        handle.write(b"firebrick" * 1000)
        handle.seek(path.stat().st_size // 2)
        handle.write(hashlib.sha256(path.name.encode()).digest() * 64)

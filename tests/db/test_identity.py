"""The identity tables: migration 0010 on a database with accounts, and the repository's deletes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from firebrick.db import Database, IdentityRepository, upgrade
from firebrick.domain.model import Project, Role, User
from tests.conftest import database_url

# What a 0009 database holds for one account, written with 0009's columns only.
_ROWS_BEFORE_0010 = (
    "INSERT INTO projects (id, name, domain_id, description, enabled) VALUES ('p1', 'old', 'default', '', true)",
    "INSERT INTO users (id, name, password_hash, domain_id, enabled) VALUES ('u1', 'old', 'h', 'default', true)",
    "INSERT INTO roles (id, name) VALUES ('r1', 'member')",
    "INSERT INTO role_assignments (user_id, project_id, role_id) VALUES ('u1', 'p1', 'r1')",
)


def test_0010_keeps_existing_accounts_and_their_assignments(tmp_path: Path) -> None:
    urls = database_url(tmp_path)
    url = next(urls)
    try:
        upgrade(url, "0009")
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            for statement in _ROWS_BEFORE_0010:
                conn.exec_driver_sql(statement)
        engine.dispose()

        upgrade(url)

        database = Database(url)
        repo = IdentityRepository(database)
        assert repo.project(project_id="p1") == Project("p1", "old", "default", "", True, (), {})
        assert repo.user(user_id="u1") == User("u1", "old", "h", "default", None, True, {}, None)
        assert repo.role(role_id="r1") == Role("r1", "member", None, {})
        assert repo.role_names("u1", "p1") == {"member"}
        database.dispose()
    finally:
        next(urls, None)


def test_deletes_take_the_assignments_in_the_same_transaction(tmp_path: Path) -> None:
    urls = database_url(tmp_path)
    url = next(urls)
    try:
        upgrade(url)
        database = Database(url)
        repo = IdentityRepository(database)
        repo.add_project(Project("p1", "one"))
        repo.add_project(Project("p2", "two", tags=("t",), extra={"k": "v"}))
        repo.add_user(User("u1", "u", "h"))
        repo.add_role(Role("r1", "member"))
        repo.assign("u1", "p1", "r1")
        repo.assign("u1", "p2", "r1")

        assert repo.delete_project("p1") and not repo.delete_project("p1")
        assert [(a.project_name, a.role_name) for a in repo.assignments(user_id="u1")] == [("two", "member")]
        assert repo.project(project_id="p2") == Project("p2", "two", tags=("t",), extra={"k": "v"})
        assert repo.update_user("u1", enabled=False)
        assert repo.role_names("u1", "p2") == set()  # a disabled user holds nothing
        assert repo.delete_user("u1")
        assert repo.assignments() == [] and repo.role(role_id="r1") is not None
        database.dispose()
    finally:
        next(urls, None)

"""Projects, users, roles and role assignments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db.engine import Database
from firebrick.domain.model import Project, Role, User

__all__ = ["IdentityRepository"]


class IdentityRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def project(self, project_id: str | None = None, name: str | None = None) -> Project | None:
        row = self._first(t.projects, project_id, name)
        return Project(**row._mapping) if row else None

    def user(self, user_id: str | None = None, name: str | None = None) -> User | None:
        row = self._first(t.users, user_id, name)
        return User(**row._mapping) if row else None

    def role(self, role_id: str | None = None, name: str | None = None) -> Role | None:
        row = self._first(t.roles, role_id, name)
        return Role(**row._mapping) if row else None

    def projects(self) -> list[Project]:
        with self._db.read() as conn:
            return [Project(**r._mapping) for r in conn.execute(sa.select(t.projects).order_by(t.projects.c.name))]

    def roles(self) -> list[Role]:
        with self._db.read() as conn:
            return [Role(**r._mapping) for r in conn.execute(sa.select(t.roles).order_by(t.roles.c.name))]

    def role_names(self, user_id: str, project_id: str) -> set[str]:
        ra, r = t.role_assignments, t.roles
        query = (
            sa.select(r.c.name)
            .join(ra, ra.c.role_id == r.c.id)
            .where(ra.c.user_id == user_id, ra.c.project_id == project_id)
        )
        with self._db.read() as conn:
            return {row[0] for row in conn.execute(query)}

    def user_projects(self, user_id: str) -> list[Project]:
        ra, p = t.role_assignments, t.projects
        query = sa.select(p).where(p.c.id.in_(sa.select(ra.c.project_id).where(ra.c.user_id == user_id)))
        with self._db.read() as conn:
            return [Project(**r._mapping) for r in conn.execute(query)]

    def add_project(self, project: Project) -> None:
        self._insert(t.projects, _fields(project))

    def add_user(self, user: User) -> None:
        self._insert(t.users, _fields(user))

    def add_role(self, role: Role) -> None:
        self._insert(t.roles, _fields(role))

    def assign(self, user_id: str, project_id: str, role_id: str) -> None:
        ra = t.role_assignments
        with self._db.write() as conn:
            exists = conn.execute(
                sa.select(ra.c.user_id).where(
                    ra.c.user_id == user_id, ra.c.project_id == project_id, ra.c.role_id == role_id
                )
            ).first()
            if exists is None:
                conn.execute(sa.insert(ra).values(user_id=user_id, project_id=project_id, role_id=role_id))

    def _first(self, table: sa.Table, row_id: str | None, name: str | None) -> Any:
        clause = table.c.id == row_id if row_id is not None else table.c.name == name
        with self._db.read() as conn:
            return conn.execute(sa.select(table).where(clause)).first()

    def _insert(self, table: sa.Table, values: dict[str, Any]) -> None:
        with self._db.write() as conn:
            conn.execute(sa.insert(table).values(**values))


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}

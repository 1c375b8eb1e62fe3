"""Projects, users, roles and role assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db.engine import Database
from firebrick.domain.model import Project, Role, RoleAssignment, User

__all__ = ["IdentityRepository"]


class IdentityRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def project(self, project_id: str | None = None, name: str | None = None) -> Project | None:
        row = self._first(t.projects, project_id, name)
        return _project(row) if row else None

    def user(self, user_id: str | None = None, name: str | None = None) -> User | None:
        row = self._first(t.users, user_id, name)
        return _user(row) if row else None

    def role(self, role_id: str | None = None, name: str | None = None) -> Role | None:
        row = self._first(t.roles, role_id, name)
        return _role(row) if row else None

    def projects(self, name: str | None = None, enabled: bool | None = None) -> list[Project]:
        query = sa.select(t.projects).where(*_filters(t.projects, name, enabled)).order_by(t.projects.c.name)
        with self._db.read() as conn:
            return [_project(r) for r in conn.execute(query)]

    def users(self, name: str | None = None, enabled: bool | None = None) -> list[User]:
        query = sa.select(t.users).where(*_filters(t.users, name, enabled)).order_by(t.users.c.name)
        with self._db.read() as conn:
            return [_user(r) for r in conn.execute(query)]

    def roles(self, name: str | None = None) -> list[Role]:
        query = sa.select(t.roles).where(*_filters(t.roles, name, None)).order_by(t.roles.c.name)
        with self._db.read() as conn:
            return [_role(r) for r in conn.execute(query)]

    def role_names(self, user_id: str, project_id: str) -> set[str]:
        """The roles assigned to the user on the project, when both are enabled (none otherwise)."""
        return self.access(user_id, project_id)[0]

    def access(self, user_id: str, project_id: str) -> tuple[set[str], datetime | None]:
        """In one query: ``role_names``, and the user's ``tokens_valid_after`` when it holds any."""
        ra, r, u, p = t.role_assignments, t.roles, t.users, t.projects
        query = (
            sa.select(r.c.name, u.c.tokens_valid_after)
            .join(ra, ra.c.role_id == r.c.id)
            .join(u, u.c.id == ra.c.user_id)
            .join(p, p.c.id == ra.c.project_id)
            .where(ra.c.user_id == user_id, ra.c.project_id == project_id, u.c.enabled, p.c.enabled)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return {row[0] for row in rows}, (rows[0][1] if rows else None)

    def user_projects(self, user_id: str) -> list[Project]:
        ra, p = t.role_assignments, t.projects
        query = (
            sa.select(p)
            .where(p.c.id.in_(sa.select(ra.c.project_id).where(ra.c.user_id == user_id)))
            .order_by(p.c.name)
        )
        with self._db.read() as conn:
            return [_project(r) for r in conn.execute(query)]

    def user_roles(self, user_id: str, project_id: str) -> list[Role]:
        """The roles assigned directly (implied ones are not rows)."""
        ra, r = t.role_assignments, t.roles
        query = (
            sa.select(r)
            .join(ra, ra.c.role_id == r.c.id)
            .where(ra.c.user_id == user_id, ra.c.project_id == project_id)
            .order_by(r.c.name)
        )
        with self._db.read() as conn:
            return [_role(row) for row in conn.execute(query)]

    def assignments(
        self, user_id: str | None = None, project_id: str | None = None, role_id: str | None = None
    ) -> list[RoleAssignment]:
        ra, u, p, r = t.role_assignments, t.users, t.projects, t.roles
        query = (
            sa.select(ra.c.user_id, u.c.name, ra.c.project_id, p.c.name, ra.c.role_id, r.c.name)
            .join(u, u.c.id == ra.c.user_id)
            .join(p, p.c.id == ra.c.project_id)
            .join(r, r.c.id == ra.c.role_id)
            .order_by(u.c.name, p.c.name, r.c.name)
        )
        for column, value in ((ra.c.user_id, user_id), (ra.c.project_id, project_id), (ra.c.role_id, role_id)):
            if value is not None:
                query = query.where(column == value)
        with self._db.read() as conn:
            return [RoleAssignment(*row) for row in conn.execute(query)]

    def is_assigned(self, user_id: str, project_id: str, role_id: str) -> bool:
        with self._db.read() as conn:
            found = conn.execute(sa.select(t.role_assignments).where(*_grant(user_id, project_id, role_id))).first()
            return found is not None

    def add_project(self, project: Project) -> None:
        self._insert(t.projects, _fields(project))

    def add_user(self, user: User) -> None:
        self._insert(t.users, _fields(user))

    def add_role(self, role: Role) -> None:
        self._insert(t.roles, _fields(role))

    def update_project(self, project_id: str, **fields: Any) -> bool:
        return self._update(t.projects, project_id, fields)

    def update_user(self, user_id: str, **fields: Any) -> bool:
        return self._update(t.users, user_id, fields)

    def update_role(self, role_id: str, **fields: Any) -> bool:
        return self._update(t.roles, role_id, fields)

    def delete_project(self, project_id: str) -> bool:
        """Delete the project and every role assignment on it, in one transaction."""
        return self._delete_with_assignments(t.projects, t.role_assignments.c.project_id, project_id)

    def delete_user(self, user_id: str) -> bool:
        """Delete the user and every role assignment it holds, in one transaction."""
        return self._delete_with_assignments(t.users, t.role_assignments.c.user_id, user_id)

    def delete_role(self, role_id: str) -> bool:
        """Delete the role and every assignment of it, in one transaction."""
        return self._delete_with_assignments(t.roles, t.role_assignments.c.role_id, role_id)

    def assign(self, user_id: str, project_id: str, role_id: str) -> None:
        ra = t.role_assignments
        with self._db.write() as conn:
            exists = conn.execute(sa.select(ra.c.user_id).where(*_grant(user_id, project_id, role_id))).first()
            if exists is None:
                conn.execute(sa.insert(ra).values(user_id=user_id, project_id=project_id, role_id=role_id))

    def unassign(self, user_id: str, project_id: str, role_id: str) -> bool:
        with self._db.write() as conn:
            return conn.execute(sa.delete(t.role_assignments).where(*_grant(user_id, project_id, role_id))).rowcount > 0

    def _first(self, table: sa.Table, row_id: str | None, name: str | None) -> Any:
        clause = table.c.id == row_id if row_id is not None else table.c.name == name
        with self._db.read() as conn:
            return conn.execute(sa.select(table).where(clause)).first()

    def _insert(self, table: sa.Table, values: dict[str, Any]) -> None:
        with self._db.write() as conn:
            conn.execute(sa.insert(table).values(**values))

    def _update(self, table: sa.Table, row_id: str, fields: dict[str, Any]) -> bool:
        with self._db.write() as conn:
            return conn.execute(sa.update(table).where(table.c.id == row_id).values(**fields)).rowcount > 0

    def _delete_with_assignments(self, table: sa.Table, column: sa.Column[Any], row_id: str) -> bool:
        # The foreign keys cascade too; deleting the assignments first says so where it is read.
        with self._db.write() as conn:
            conn.execute(sa.delete(t.role_assignments).where(column == row_id))
            return conn.execute(sa.delete(table).where(table.c.id == row_id)).rowcount > 0


def _grant(user_id: str, project_id: str, role_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    ra = t.role_assignments
    return ra.c.user_id == user_id, ra.c.project_id == project_id, ra.c.role_id == role_id


def _filters(table: sa.Table, name: str | None, enabled: bool | None) -> list[sa.ColumnElement[bool]]:
    clauses = []
    if name is not None:
        clauses.append(table.c.name == name)
    if enabled is not None:
        clauses.append(table.c.enabled == enabled)
    return clauses


def _project(row: Any) -> Project:
    values = dict(row._mapping)
    return Project(**{**values, "tags": tuple(values["tags"] or ()), "extra": dict(values["extra"] or {})})


def _user(row: Any) -> User:
    values = dict(row._mapping)
    return User(**{**values, "extra": dict(values["extra"] or {})})


def _role(row: Any) -> Role:
    values = dict(row._mapping)
    return Role(**{**values, "extra": dict(values["extra"] or {})})


def _fields(value: Any) -> dict[str, Any]:
    fields = {name: getattr(value, name) for name in value.__dataclass_fields__}
    if isinstance(fields.get("tags"), tuple):
        fields["tags"] = list(fields["tags"])
    return fields

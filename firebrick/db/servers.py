"""Servers, their block-device mappings, flavors and instance actions: the compute side's rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from firebrick.db import tables as t
from firebrick.db._paging import apply_page
from firebrick.db._transition import settle_jobs
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import ActionEvent, BlockDeviceMapping, Flavor, InstanceAction, Job, Page, Server

__all__ = ["ActionRepository", "FlavorRepository", "MappingRepository", "ServerRepository"]

_S, _B, _F = t.servers, t.block_device_mappings, t.flavors
_A, _E = t.instance_actions, t.instance_action_events
_SERVER_FIELDS = [f.name for f in dataclasses.fields(Server)]
_MAPPING_FIELDS = [f.name for f in dataclasses.fields(BlockDeviceMapping)]
_FLAVOR_FIELDS = [f.name for f in dataclasses.fields(Flavor)]
_EVENT_FIELDS = [f.name for f in dataclasses.fields(ActionEvent)]
_ACTION_FIELDS = [f.name for f in dataclasses.fields(InstanceAction) if f.name != "events"]


def _server(row: Any) -> Server:
    return Server(**{name: row._mapping[name] for name in _SERVER_FIELDS})


def _mapping(row: Any) -> BlockDeviceMapping:
    return BlockDeviceMapping(**{name: row._mapping[name] for name in _MAPPING_FIELDS})


class ServerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, server: Server, mappings: Iterable[BlockDeviceMapping] = (), job: Job | None = None) -> None:
        """A new server with its boot volumes and its build job, in one transaction."""
        with self._db.write() as conn:
            conn.execute(sa.insert(_S).values(**dataclasses.asdict(server)))
            for mapping in mappings:
                conn.execute(sa.insert(_B).values(**dataclasses.asdict(mapping)))
            settle_jobs(conn, job, None)

    def get(self, server_id: str, project_id: str | None = None, deleted: bool = False) -> Server | None:
        query = sa.select(_S).where(_S.c.id == server_id)
        if project_id is not None:
            query = query.where(_S.c.project_id == project_id)
        if not deleted:
            query = query.where(_S.c.deleted_at.is_(None))
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return _server(row) if row else None

    def find(self, page: Page, project_id: str | None) -> list[Server]:
        query = sa.select(_S).where(_S.c.deleted_at.is_(None))
        if project_id is not None:
            query = query.where(_S.c.project_id == project_id)
        for key, value in page.filters.items():
            column = _S.c[key.rstrip("~")]
            query = query.where(column.like(f"%{value}%") if key.endswith("~") else column == value)
        with self._db.read() as conn:
            rows = conn.execute(apply_page(conn, query, _S, page, "Instance", project_id)).all()
        return [_server(row) for row in rows]

    def on_node(self, node: str) -> list[Server]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_S).where(_S.c.node == node, _S.c.deleted_at.is_(None))).all()
        return [_server(row) for row in rows]

    def transition(
        self,
        server_id: str,
        vm_states: Iterable[str],
        task_states: Iterable[str | None],
        job: Job | None = None,
        done_job: str | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set: change ``fields`` only if the server is in one of ``vm_states`` with one of
        ``task_states`` (None meaning idle); queue ``job`` and finish ``done_job`` with it."""
        tasks = list(task_states)
        named = [task for task in tasks if task is not None]
        task_clause = sa.or_(_S.c.task_state.in_(named), _S.c.task_state.is_(None) if None in tasks else sa.false())
        with self._db.write() as conn:
            result = conn.execute(
                sa.update(_S)
                .where(_S.c.id == server_id, _S.c.deleted_at.is_(None), _S.c.vm_state.in_(list(vm_states)), task_clause)
                .values(updated_at=utcnow(), **fields)
            )
            if result.rowcount != 1:
                return False
            settle_jobs(conn, job, done_job)
            return True

    def update(self, server_id: str, **fields: Any) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_S).where(_S.c.id == server_id).values(updated_at=utcnow(), **fields))


class MappingRepository:
    """Block-device mappings: one per (server, volume)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, mapping: BlockDeviceMapping) -> bool:
        """False when the server already maps that volume (the unique key refuses the second)."""
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(_B).values(**dataclasses.asdict(mapping)))
        except sa.exc.IntegrityError:
            return False
        return True

    def of_server(self, server_id: str) -> list[BlockDeviceMapping]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_B).where(_B.c.instance_uuid == server_id).order_by(_B.c.created_at)).all()
        return [_mapping(row) for row in rows]

    def of_volume(self, volume_id: str) -> list[BlockDeviceMapping]:
        """The mappings of a volume on live servers."""
        live = sa.select(_S.c.id).where(_S.c.id == _B.c.instance_uuid, _S.c.deleted_at.is_(None)).exists()
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_B).where(_B.c.volume_id == volume_id, live)).all()
        return [_mapping(row) for row in rows]

    def get(self, server_id: str, volume_id: str) -> BlockDeviceMapping | None:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(_B).where(_B.c.instance_uuid == server_id, _B.c.volume_id == volume_id)
            ).first()
        return _mapping(row) if row else None

    def update(self, mapping_uuid: str, **fields: Any) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_B).where(_B.c.uuid == mapping_uuid).values(**fields))

    def delete(self, mapping_uuid: str) -> None:
        with self._db.write() as conn:
            conn.execute(sa.delete(_B).where(_B.c.uuid == mapping_uuid))


class FlavorRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Flavor]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_F).order_by(_F.c.ram, _F.c.id)).all()
        return [Flavor(**{n: row._mapping[n] for n in _FLAVOR_FIELDS}) for row in rows]

    def get(self, flavor_id: str) -> Flavor | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(_F).where(_F.c.id == flavor_id)).first()
        return Flavor(**{n: row._mapping[n] for n in _FLAVOR_FIELDS}) if row else None

    def add(self, flavor: Flavor) -> bool:
        """False when the id or the name is taken."""
        try:
            with self._db.write() as conn:
                conn.execute(sa.insert(_F).values(created_at=utcnow(), **dataclasses.asdict(flavor)))
        except sa.exc.IntegrityError:
            return False
        return True

    def delete(self, flavor_id: str) -> bool:
        with self._db.write() as conn:
            return conn.execute(sa.delete(_F).where(_F.c.id == flavor_id)).rowcount == 1


class ActionRepository:
    """Instance actions and their events (Nova's os-instance-actions)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, action: InstanceAction) -> None:
        with self._db.write() as conn:
            conn.execute(sa.insert(_A).values(**{n: getattr(action, n) for n in _ACTION_FIELDS}))

    def start_event(self, event: ActionEvent) -> None:
        with self._db.write() as conn:
            conn.execute(sa.insert(_E).values(**dataclasses.asdict(event)))

    def finish_event(self, event_id: str, result: str, details: str | None, traceback: str | None) -> None:
        """Close an event; a failed one marks its action's message ``Error``, as Nova does."""
        now = utcnow()
        with self._db.write() as conn:
            action_id = conn.execute(sa.select(_E.c.action_id).where(_E.c.id == event_id)).scalar()
            conn.execute(
                sa.update(_E)
                .where(_E.c.id == event_id)
                .values(finish_time=now, result=result, details=details, traceback=traceback)
            )
            values: dict[str, Any] = {"updated_at": now}
            if result != "Success":
                values["message"] = "Error"
            conn.execute(sa.update(_A).where(_A.c.id == action_id).values(**values))

    def of_server(self, server_id: str) -> list[InstanceAction]:
        query = sa.select(_A).where(_A.c.instance_uuid == server_id).order_by(_A.c.start_time.desc(), _A.c.id.desc())
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [InstanceAction(**{n: row._mapping[n] for n in _ACTION_FIELDS}) for row in rows]

    def get(self, server_id: str, request_id: str) -> InstanceAction | None:
        query = sa.select(_A).where(_A.c.instance_uuid == server_id, _A.c.request_id == request_id)
        with self._db.read() as conn:
            row = conn.execute(query.order_by(_A.c.start_time.desc())).first()
            if row is None:
                return None
            events = conn.execute(sa.select(_E).where(_E.c.action_id == row.id).order_by(_E.c.start_time)).all()
        action = InstanceAction(**{n: row._mapping[n] for n in _ACTION_FIELDS})
        found = tuple(ActionEvent(**{n: e._mapping[n] for n in _EVENT_FIELDS}) for e in events)
        return dataclasses.replace(action, events=found)

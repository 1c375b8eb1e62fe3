"""Volume rows and their metadata, mapped to ``domain.model.Volume``."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firebrick.db import tables as t
from firebrick.db._paging import apply_page
from firebrick.db._transition import compare_and_set, delete_row, insert_job, insert_message, settle_jobs
from firebrick.db.attachments import attachments_of
from firebrick.db.engine import Database, utcnow
from firebrick.domain.model import Attachment, Job, Message, Page, Volume
from firebrick.domain.ports import Usage
from firebrick.domain.volume.states import ALLOWED, MIGRATION_TARGET, SNAPSHOT_ALLOWED, MigrationStatus, check_moves

__all__ = ["VolumeRepository"]

_V = t.volumes
# Columns in the order of Volume's fields (metadata aside), so a row builds a Volume
# positionally: listing 100 volumes builds 100 of them. Every read carries its type's
# name, so rendering needs no second query.
_ALL_FIELDS = [f.name for f in dataclasses.fields(Volume)]
_METADATA_AT = _ALL_FIELDS.index("metadata")
_FIELDS = [name for name in _ALL_FIELDS if name not in ("metadata", "image_metadata", "attachments")]
_TYPE_NAME = t.volume_types.c.name.label("volume_type_name")
_SELECT = sa.select(*(_TYPE_NAME if name == "volume_type_name" else _V.c[name] for name in _FIELDS)).select_from(
    _V.outerjoin(t.volume_types, t.volume_types.c.id == _V.c.volume_type_id)
)
_GET = _SELECT.where(_V.c.id == sa.bindparam("volume_id"))
_NOT_A_TARGET = sa.or_(_V.c.migration_status.is_(None), sa.not_(_V.c.migration_status.startswith(MIGRATION_TARGET)))
_GET_IN_PROJECT = _GET.where(_V.c.project_id == sa.bindparam("project_id"))
# Both kinds of key/value rows of a page of volumes, in one round trip: ("user" | "image", volume, key, value).
# The ids are one expanding parameter, bound as one value rather than coerced one literal at a time.
_IDS: sa.BindParameter[str] = sa.bindparam("volume_ids", expanding=True)
_KEY_VALUES = sa.union_all(
    sa.select(sa.literal("user"), t.volume_metadata.c.volume_id, t.volume_metadata.c.key, t.volume_metadata.c.value)
    .where(t.volume_metadata.c.volume_id.in_(_IDS)),
    sa.select(sa.literal("image"), t.volume_image_metadata.c.volume_id, t.volume_image_metadata.c.key,
              t.volume_image_metadata.c.value).where(t.volume_image_metadata.c.volume_id.in_(_IDS)),
)  # fmt: skip


class VolumeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, volume_id: str, project_id: str | None = None) -> Volume | None:
        params = {"volume_id": volume_id, "project_id": project_id}
        with self._db.read() as conn:
            row = conn.execute(_GET if project_id is None else _GET_IN_PROJECT, params).first()
            if row is None:
                return None
            metadata, images = _key_values(conn, [volume_id])
            attachments = attachments_of(conn, [volume_id])
            return _volume(row, metadata.get(volume_id, {}), images.get(volume_id, {}), attachments.get(volume_id, ()))

    def find(self, page: Page, project_id: str | None) -> list[Volume]:
        with self._db.read() as conn:
            query = _filtered(_SELECT, page.filters, project_id)
            rows = conn.execute(apply_page(conn, query, _V, page, "Volume", project_id)).all()
            return _to_volumes(conn, rows)

    def count(self, page: Page, project_id: str | None) -> int:
        query = _filtered(sa.select(sa.func.count()).select_from(_V), page.filters, project_id)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def summary(self, project_id: str | None) -> tuple[int, int]:
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_V.c.size), 0))
        if project_id is not None:
            query = query.where(_V.c.project_id == project_id, _NOT_A_TARGET)
        with self._db.read() as conn:
            count, total = conn.execute(query).one()
            return int(count), int(total)

    def insert(self, volume: Volume, job: Job, admit: Callable[[Usage], None]) -> None:
        """Insert a volume and its job in one transaction, after ``admit`` accepts the usage."""
        with self._db.write() as conn:
            admit(usage(conn, volume.project_id))
            values = {c.name: getattr(volume, c.name) for c in _V.c}
            conn.execute(sa.insert(_V).values(**values))
            _insert_metadata(conn, volume.id, volume.metadata)
            insert_job(conn, job)

    def transition(
        self,
        volume_id: str,
        expected: Iterable[str],
        new: str,
        job: Job | None = None,
        done_job: str | None = None,
        admit: Callable[[Usage], None] | None = None,
        message: Message | None = None,
        override: bool = False,
        **fields: Any,
    ) -> bool:
        """Compare-and-set the status; enqueue ``job`` / finish ``done_job`` / record ``message`` atomically with it.

        A move the state machine does not list raises IllegalTransition, unless it is an
        admin's ``override`` (a reset of the status, a forced delete). With ``admit``, the
        project's usage as it was before the change is checked in the same transaction,
        after the status matched (a wrong status is the answer before a quota is): a
        refusal (QuotaExceeded) undoes the status change too.
        """
        expected = list(expected)
        if not override:
            check_moves(ALLOWED, expected, new)
        with self._db.write() as conn:
            before = self._usage_of_owner(conn, volume_id) if admit is not None else None
            if not compare_and_set(conn, _V, volume_id, expected, new, fields):
                return False
            if admit is not None and before is not None:
                admit(before)
            settle_jobs(conn, job, done_job)
            if message is not None:
                insert_message(conn, message)
            return True

    def transition_migration(
        self,
        volume_id: str,
        expected: Iterable[str | None],
        new: str | None,
        statuses: Iterable[str] | None = None,
        job: Job | None = None,
        done_job: str | None = None,
        message: Message | None = None,
        target: Volume | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set ``migration_status`` (and the status, when ``statuses`` is given:
        it must be one of them; a new one is among ``fields``); insert a migration's
        ``target`` row, enqueue ``job``, finish ``done_job`` and record ``message``
        atomically with it."""
        wanted = list(expected)
        matches: sa.ColumnElement[bool] = _V.c.migration_status.in_([s for s in wanted if s is not None])
        if None in wanted:
            matches = sa.or_(matches, _V.c.migration_status.is_(None))
        query = sa.update(_V).where(_V.c.id == volume_id, matches)
        if statuses is not None:
            query = query.where(_V.c.status.in_(list(statuses)))
        with self._db.write() as conn:
            if conn.execute(query.values(migration_status=new, updated_at=utcnow(), **fields)).rowcount != 1:
                return False
            if target is not None:
                conn.execute(sa.insert(_V).values(**{c.name: getattr(target, c.name) for c in _V.c}))
            settle_jobs(conn, job, done_job)
            if message is not None:
                insert_message(conn, message)
            return True

    def swap_in_target(
        self,
        volume_id: str,
        target_id: str,
        expected_host: str,
        done_job: str | None = None,
        admit: Callable[[Usage], None] | None = None,
        **fields: Any,
    ) -> bool:
        """End a migration's move in one transaction: the volume (still ``completing``
        on ``expected_host``) takes ``fields``, the target's attachments become the
        volume's, and the target row goes. ``admit`` checks the usage before it, as
        ``transition`` does."""
        with self._db.write() as conn:
            before = self._usage_of_owner(conn, volume_id) if admit is not None else None
            completing = _V.c.migration_status == MigrationStatus.COMPLETING
            moved = conn.execute(
                sa.update(_V)
                .where(_V.c.id == volume_id, completing, _V.c.host == expected_host)
                .values(updated_at=utcnow(), **fields)
            )
            if moved.rowcount != 1:
                return False
            if admit is not None and before is not None:
                admit(before)
            attachments = t.volume_attachments
            conn.execute(sa.update(attachments).where(attachments.c.volume_id == target_id).values(volume_id=volume_id))
            conn.execute(sa.delete(_V).where(_V.c.id == target_id))
            settle_jobs(conn, None, done_job)
            return True

    def drop_target(self, target_id: str) -> None:
        """Remove a migration's destination row (and any attachment a swap left on it)."""
        with self._db.write() as conn:
            conn.execute(sa.delete(t.volume_attachments).where(t.volume_attachments.c.volume_id == target_id))
            conn.execute(sa.delete(_V).where(_V.c.id == target_id))

    def transition_with_snapshot(
        self,
        volume_id: str,
        volume_moves: tuple[Iterable[str], str],
        snapshot_id: str,
        snapshot_moves: tuple[Iterable[str], str],
        job: Job | None = None,
        done_job: str | None = None,
    ) -> bool:
        """Compare-and-set a volume and one of its snapshots together: both move, or neither.

        Each ``*_moves`` is (expected statuses, new status).
        """
        volume_moves = (list(volume_moves[0]), volume_moves[1])
        snapshot_moves = (list(snapshot_moves[0]), snapshot_moves[1])
        check_moves(ALLOWED, *volume_moves)
        check_moves(SNAPSHOT_ALLOWED, *snapshot_moves)
        try:
            with self._db.write() as conn:
                if not compare_and_set(conn, _V, volume_id, *volume_moves, {}):
                    return False
                if not compare_and_set(conn, t.snapshots, snapshot_id, *snapshot_moves, {}):
                    raise _Undo
                settle_jobs(conn, job, done_job)
                return True
        except _Undo:
            return False

    def _usage_of_owner(self, conn: Connection, volume_id: str) -> Usage | None:
        project = conn.execute(sa.select(_V.c.project_id).where(_V.c.id == volume_id)).scalar()
        return usage(conn, project) if project is not None else None

    def update(self, volume_id: str, **fields: Any) -> None:
        with self._db.write() as conn:
            conn.execute(sa.update(_V).where(_V.c.id == volume_id).values(updated_at=utcnow(), **fields))

    def set_metadata(self, volume_id: str, metadata: Mapping[str, str], replace: bool) -> None:
        with self._db.write() as conn:
            md = t.volume_metadata
            keys = list(metadata) if not replace else None
            stale = md.c.volume_id == volume_id
            conn.execute(sa.delete(md).where(stale, md.c.key.in_(keys)) if keys else sa.delete(md).where(stale))
            _insert_metadata(conn, volume_id, metadata)

    def set_image_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> None:
        """Merge image properties into a volume's (keys given replace theirs)."""
        md = t.volume_image_metadata
        with self._db.write() as conn:
            conn.execute(sa.delete(md).where(md.c.volume_id == volume_id, md.c.key.in_(list(metadata))))
            if metadata:
                conn.execute(
                    sa.insert(md), [{"volume_id": volume_id, "key": k, "value": v} for k, v in metadata.items()]
                )

    def delete_image_metadata_key(self, volume_id: str, key: str) -> bool:
        md = t.volume_image_metadata
        with self._db.write() as conn:
            return conn.execute(sa.delete(md).where(md.c.volume_id == volume_id, md.c.key == key)).rowcount == 1

    def delete_metadata_key(self, volume_id: str, key: str) -> bool:
        md = t.volume_metadata
        with self._db.write() as conn:
            result = conn.execute(sa.delete(md).where(md.c.volume_id == volume_id, md.c.key == key))
            return result.rowcount == 1

    def delete(self, volume_id: str, done_job: str | None = None) -> None:
        delete_row(self._db, _V, volume_id, done_job)

    def in_status(self, statuses: Iterable[str]) -> list[Volume]:
        with self._db.read() as conn:
            rows = conn.execute(_SELECT.where(_V.c.status.in_(list(statuses)))).all()
            return _to_volumes(conn, rows)


class _Undo(Exception):
    """Raised inside a transaction to roll it back (the first half of a pair already moved)."""


def usage(conn: Connection, project_id: str) -> Usage:
    """What a project holds now, counted from the rows themselves (nothing to drift)."""
    if not conn.dialect.name == "sqlite":
        # Serialise quota decisions per project: concurrent creates wait here.
        conn.execute(sa.select(t.projects.c.id).where(t.projects.c.id == project_id).with_for_update())
    # A volume being extended holds its new size already, so two extends cannot share the last GiB.
    held = sa.case((_V.c.resize_target > _V.c.size, _V.c.resize_target), else_=_V.c.size)
    vols = conn.execute(
        sa.select(_V.c.volume_type_id, sa.func.count(), sa.func.coalesce(sa.func.sum(held), 0))
        .where(_V.c.project_id == project_id, _NOT_A_TARGET)  # a migration's copy is not a second volume
        .group_by(_V.c.volume_type_id)
    ).all()
    snaps = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(t.snapshots.c.size), 0)).where(
            t.snapshots.c.project_id == project_id
        )
    ).one()
    per_type = {row[0]: (int(row[1]), int(row[2])) for row in vols}
    return Usage(
        volumes=sum(c for c, _ in per_type.values()),
        gigabytes=sum(g for _, g in per_type.values()) + int(snaps[1]),
        snapshots=int(snaps[0]),
        per_type=per_type,
    )


def _filtered(query: sa.Select[Any], filters: Mapping[str, Any], project_id: str | None) -> sa.Select[Any]:
    if project_id is not None:
        # A project sees its own volumes; a migration's temporary destination only shows across
        # projects (all_tenants), as Cinder shows it to admins only.
        query = query.where(_V.c.project_id == project_id, _NOT_A_TARGET)
    for key, value in filters.items():
        if key == "metadata":
            for mkey, mvalue in value.items():
                md = t.volume_metadata
                query = query.where(
                    sa.exists().where(md.c.volume_id == _V.c.id, md.c.key == mkey, md.c.value == mvalue)
                )
        elif key.endswith("~"):
            query = query.where(_V.c[key[:-1]].like(f"%{value}%"))
        else:
            query = query.where(_V.c[key] == value)
    return query


def _insert_metadata(conn: Connection, volume_id: str, metadata: Mapping[str, str]) -> None:
    if metadata:
        conn.execute(
            sa.insert(t.volume_metadata),
            [{"volume_id": volume_id, "key": k, "value": v} for k, v in metadata.items()],
        )


def _to_volumes(conn: Connection, rows: Iterable[Any]) -> list[Volume]:
    rows = list(rows)
    if not rows:
        return []
    ids = [row.id for row in rows]
    metadata, images = _key_values(conn, ids)
    attachments = attachments_of(conn, ids)
    return [
        _volume(row, metadata.get(row.id, {}), images.get(row.id, {}), attachments.get(row.id, ())) for row in rows
    ]


def _key_values(conn: Connection, volume_ids: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The user metadata and the image metadata of the given volumes, one dict per volume each."""
    grouped: dict[str, dict[str, dict[str, str]]] = {"user": defaultdict(dict), "image": defaultdict(dict)}
    for kind, volume_id, key, value in conn.execute(_KEY_VALUES, {"volume_ids": volume_ids}).all():
        grouped[kind][volume_id][key] = value
    return grouped["user"], grouped["image"]


def _volume(
    row: Any, metadata: dict[str, str], image_metadata: dict[str, str], attachments: tuple[Attachment, ...]
) -> Volume:
    tail = row[_METADATA_AT:]
    return Volume(*row[:_METADATA_AT], metadata, *tail, image_metadata=image_metadata, attachments=attachments)  # type: ignore[call-arg, misc]

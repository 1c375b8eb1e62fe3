"""Volume migration between two real file pools (a raw one and a qcow2 one), jobs run by hand.

Attached moves (compute's mirror) are exercised through the APIs: tests/api/volume/test_migrate.py
on the fake hypervisor and tests/api/compute/test_migrate_guest.py on real QEMU guests.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from firebrick.config import BackendSettings
from firebrick.db import upgrade
from firebrick.domain.model import Caller, Page
from firebrick.domain.ports import Pool, Ports
from firebrick.domain.snapshot.create import SnapshotRequest
from firebrick.domain.snapshot.create import request_create as request_snapshot
from firebrick.domain.volume import migrate
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.migrate import MIGRATE, complete_migration, request_migrate
from firebrick.domain.volume.retype import request_retype
from firebrick.domain.volume.states import MigrationStatus, VolumeStatus
from firebrick.domain.volume_types import create_type, ensure_default_type
from firebrick.errors import InvalidInput
from firebrick.node import Node
from firebrick.storage import FileBackend, GiB, PoolCopySource, Source
from firebrick.storage.base import DiskFormat
from tests.conftest import database_url, make_settings
from tests.fixtures_domain import caller_in, drain

MiB = 1024**2


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """Backend ``raw`` (first, the default) and backend ``qcow2`` of 3 GiB, each its own directory."""
    urls = database_url(tmp_path)
    backends = tuple(
        BackendSettings(name=fmt, pool="pool", path=tmp_path / fmt, capacity_gb=3, format=fmt)
        for fmt in ("raw", "qcow2")
    )
    built = Node(make_settings(tmp_path, next(urls), backends=backends))
    upgrade(built.settings.database_url)
    ensure_default_type(built.ports)
    create_type(built.ports, "on-raw", None, True, {"volume_backend_name": "raw"})
    for pool in built.pools:  # the heartbeat a running node sends: the destination must be up
        built.repos.services.heartbeat(pool.host.split("#")[0], "cinder-volume", built.settings.availability_zone)
    yield built
    built.db.dispose()
    next(urls, None)


@pytest.fixture
def ports(node: Node) -> Ports:
    return node.ports


@pytest.fixture
def admin(node: Node) -> Caller:
    return caller_in(node, "ops", "admin")


def _pool(ports: Ports, fmt: str) -> Pool:
    return next(pool for pool in ports.pools if pool.backend_name == fmt)


def _file(ports: Ports, fmt: str, volume_id: str) -> Path:
    driver = _pool(ports, fmt).driver
    assert isinstance(driver, FileBackend)
    return driver.volume_path(volume_id)


def _volume_with_data(ports: Ports, caller: Caller, size: int = 1) -> tuple[str, str]:
    """A raw volume on the raw pool with two written stretches and a hole; (id, sha256 of its bytes)."""
    volume = request_create(ports, caller, CreateRequest(size=size, volume_type="on-raw"))
    drain(ports)
    path = _file(ports, "raw", volume.id)
    with path.open("r+b") as stream:
        stream.write(os.urandom(3 * MiB))
        stream.seek(size * GiB - MiB)
        stream.write(b"end of the disk" * 1000)
    return volume.id, _raw_digest(path, "raw")


def _raw_digest(path: Path, fmt: str) -> str:
    """The sha256 of the bytes a guest would read, whatever the file's format."""
    raw = path.with_name(f"check-{path.name}")
    subprocess.run(["qemu-img", "convert", "-f", fmt, "-O", "raw", str(path), str(raw)], check=True)
    try:
        digest = hashlib.sha256()
        with raw.open("rb") as stream:
            while chunk := stream.read(4 * MiB):
                digest.update(chunk)
        return digest.hexdigest()
    finally:
        raw.unlink()


def _leftovers(ports: Ports) -> list[str]:
    found = []
    for pool in ports.pools:
        assert isinstance(pool.driver, FileBackend)
        found += [entry.name for entry in os.scandir(pool.driver.volume_path("x").parent) if ".tmp-" in entry.name]
    return found


# --- what completes ------------------------------------------------------------------------------


def test_a_detached_move_from_raw_to_qcow2_keeps_id_and_bytes(ports: Ports, admin: Caller) -> None:
    volume_id, digest = _volume_with_data(ports, admin, size=2)
    source = _file(ports, "raw", volume_id)
    request_migrate(ports, admin, volume_id, _pool(ports, "qcow2").host)
    started = ports.volumes.get(volume_id)
    assert started is not None and (started.status, started.migration_status) == ("available", "starting")
    drain(ports)
    moved = ports.volumes.get(volume_id)
    assert moved is not None
    assert (moved.status, moved.migration_status, moved.host) == ("available", "success", _pool(ports, "qcow2").host)
    assert not source.exists()
    destination = _file(ports, "qcow2", volume_id)
    assert _pool(ports, "qcow2").driver.inspect(volume_id).format == "qcow2"
    assert destination.read_bytes()[:4] == b"QFI\xfb"
    assert _raw_digest(destination, "qcow2") == digest
    assert destination.stat().st_blocks * 512 < 64 * MiB  # holes stayed holes: 3 MiB written of 2 GiB
    assert ports.volumes.summary(admin.project_id) == (1, 2)  # one volume, no temporary row left
    assert _leftovers(ports) == []


def test_a_move_back_from_qcow2_to_raw_keeps_the_bytes(ports: Ports, admin: Caller) -> None:
    volume_id, digest = _volume_with_data(ports, admin)
    request_migrate(ports, admin, volume_id, _pool(ports, "qcow2").host)
    drain(ports)
    backend = _pool(ports, "raw").host.split("#")[0]
    request_migrate(ports, admin, volume_id, backend)  # host@backend, without the pool, works too
    drain(ports)
    back = _file(ports, "raw", volume_id)
    assert _raw_digest(back, "raw") == digest
    assert not _file(ports, "qcow2", volume_id).exists()
    volume = ports.volumes.get(volume_id)
    assert volume is not None and volume.host == _pool(ports, "raw").host


def test_lock_volume_holds_an_available_volume_in_maintenance_until_the_end(ports: Ports, admin: Caller) -> None:
    volume_id, _ = _volume_with_data(ports, admin)
    request_migrate(ports, admin, volume_id, _pool(ports, "qcow2").host, lock_volume=True)
    locked = ports.volumes.get(volume_id)
    assert locked is not None and locked.status == VolumeStatus.MAINTENANCE
    drain(ports)
    done = ports.volumes.get(volume_id)
    assert done is not None and (done.status, done.migration_status) == ("available", "success")


def test_a_retype_on_demand_moves_the_volume_and_lands_with_the_new_type(ports: Ports, admin: Caller) -> None:
    create_type(ports, "on-qcow2", None, True, {"volume_backend_name": "qcow2"})
    volume = request_create(ports, admin, CreateRequest(size=1, volume_type="on-raw"))
    drain(ports)
    digest = _raw_digest(_file(ports, "raw", volume.id), "raw")
    request_retype(ports, admin, volume.id, "on-qcow2", "on-demand")
    drain(ports)
    done = ports.volumes.get(volume.id)
    assert done is not None
    assert (done.status, done.volume_type_name, done.migration_status) == ("available", "on-qcow2", "success")
    assert done.host == _pool(ports, "qcow2").host
    assert _raw_digest(_file(ports, "qcow2", volume.id), "qcow2") == digest
    usage = ports.quotas.usage(admin.project_id)
    assert (usage.volumes, usage.gigabytes) == (1, 1)
    assert set(usage.per_type) == {done.volume_type_id}


# --- crash and failure ---------------------------------------------------------------------------


class _Killed(BaseException):
    """What a kill -9 looks like to the code it stops: nothing after it runs, no handler sees it."""


class _DiesMidCopy(FileBackend):
    def create(self, volume_id: str, size_gb: int, fmt: DiskFormat, source: Source | None = None) -> None:
        def half_then_die(path: Path, out_fmt: str) -> None:
            path.write_bytes(b"half a copy")
            raise _Killed

        assert isinstance(source, PoolCopySource)
        super().create(volume_id, size_gb, fmt, dataclasses.replace(source, write=half_then_die))


def test_a_crash_mid_copy_runs_again_and_hides_the_temporary_row(ports: Ports, admin: Caller, tmp_path: Path) -> None:
    volume_id, digest = _volume_with_data(ports, admin)
    qcow2 = _pool(ports, "qcow2")
    dying = dataclasses.replace(qcow2, driver=_DiesMidCopy(tmp_path / "qcow2", 3, DiskFormat.QCOW2))
    crashing = dataclasses.replace(ports, pools=(_pool(ports, "raw"), dying))
    request_migrate(ports, admin, volume_id, qcow2.host)
    [job] = ports.jobs.pending(ports.node)
    with pytest.raises(_Killed):
        MIGRATE.run(crashing, job)
    mid = ports.volumes.get(volume_id)
    assert mid is not None and mid.migration_status == MigrationStatus.MIGRATING
    # The temporary destination row exists, but the project sees one volume and pays for one.
    assert [v.id for v in ports.volumes.find(Page(), admin.project_id)] == [volume_id]
    assert ports.volumes.summary(admin.project_id) == (1, 1)
    assert ports.quotas.usage(admin.project_id).volumes == 1
    assert len(ports.volumes.find(Page(), None)) == 2  # across projects (all_tenants) it shows, as in Cinder
    drain(ports)  # the restarted worker runs the job again
    done = ports.volumes.get(volume_id)
    assert done is not None and (done.migration_status, done.host) == ("success", qcow2.host)
    assert _raw_digest(_file(ports, "qcow2", volume_id), "qcow2") == digest
    assert _leftovers(ports) == [] and len(ports.volumes.find(Page(), None)) == 1


def test_a_full_destination_leaves_the_volume_where_it_was(ports: Ports, admin: Caller) -> None:
    filler, _ = _volume_with_data(ports, admin, size=2)
    request_migrate(ports, admin, filler, _pool(ports, "qcow2").host)
    drain(ports)  # two of the qcow2 pool's three GiB are taken now
    volume_id, digest = _volume_with_data(ports, admin, size=2)
    request_migrate(ports, admin, volume_id, _pool(ports, "qcow2").host)
    drain(ports)
    failed = ports.volumes.get(volume_id)
    assert failed is not None
    assert (failed.status, failed.migration_status, failed.host) == ("available", "error", _pool(ports, "raw").host)
    assert _raw_digest(_file(ports, "raw", volume_id), "raw") == digest
    assert not _file(ports, "qcow2", volume_id).exists() and _leftovers(ports) == []
    assert len(ports.volumes.find(Page(), None)) == 2  # no temporary row left
    [message] = [m.user_message for m in ports.messages.find(admin.project_id, volume_id)]
    assert message.startswith("migrate volume: insufficient free space in pool")


def test_giving_up_after_the_destination_was_made_removes_it(ports: Ports, admin: Caller, tmp_path: Path) -> None:
    volume_id, digest = _volume_with_data(ports, admin)
    qcow2 = _pool(ports, "qcow2")
    dying = dataclasses.replace(qcow2, driver=_DiesMidCopy(tmp_path / "qcow2", 3, DiskFormat.QCOW2))
    request_migrate(ports, admin, volume_id, qcow2.host)
    [job] = ports.jobs.pending(ports.node)
    with pytest.raises(_Killed):
        MIGRATE.run(dataclasses.replace(ports, pools=(_pool(ports, "raw"), dying)), job)
    qcow2.driver.create(volume_id, 1, DiskFormat.QCOW2)  # as if the copy had finished before the end
    MIGRATE.give_up(ports, job, "internal error: the worker kept failing")
    volume = ports.volumes.get(volume_id)
    assert volume is not None and (volume.status, volume.migration_status) == ("available", "error")
    assert not _file(ports, "qcow2", volume_id).exists()
    assert _raw_digest(_file(ports, "raw", volume_id), "raw") == digest
    assert len(ports.volumes.find(Page(), None)) == 1 and ports.jobs.pending(ports.node) == []


def test_compute_completing_first_does_not_make_the_late_job_step_delete_the_live_file(
    ports: Ports, admin: Caller
) -> None:
    # Compute's os-migrate_volume_completion and the job's own completing step end the same move;
    # the job's step came a moment late, with the volume as it read it before, on the source pool.
    volume_id, digest = _volume_with_data(ports, admin)
    qcow2 = _pool(ports, "qcow2")
    request_migrate(ports, admin, volume_id, qcow2.host)
    [job] = ports.jobs.pending(ports.node)
    for step in (migrate._record_target, migrate._move_bytes):
        current = ports.volumes.get(volume_id)
        assert current is not None
        step(ports, job, current)
    stale = ports.volumes.get(volume_id)
    assert stale is not None and (stale.migration_status, stale.host) == ("completing", _pool(ports, "raw").host)

    assert complete_migration(ports, admin, volume_id, job.payload["target_id"], error=False) == volume_id
    migrate._switch_records(ports, job, stale)

    moved = ports.volumes.get(volume_id)
    assert moved is not None and (moved.migration_status, moved.host) == ("success", qcow2.host)
    assert _raw_digest(_file(ports, "qcow2", volume_id), "qcow2") == digest
    drain(ports)  # the job ends: the source's file goes, the live one stays
    assert not _file(ports, "raw", volume_id).exists() and _file(ports, "qcow2", volume_id).exists()


# --- what is refused -----------------------------------------------------------------------------


def test_what_cinder_refuses_is_refused_and_changes_nothing(ports: Ports, admin: Caller, node: Node) -> None:
    volume_id, _ = _volume_with_data(ports, admin)
    raw, qcow2 = _pool(ports, "raw").host, _pool(ports, "qcow2").host
    with pytest.raises(InvalidInput, match="destination host/cluster must be different"):
        request_migrate(ports, admin, volume_id, raw)
    with pytest.raises(InvalidInput, match="No available service named nowhere@x"):
        request_migrate(ports, admin, volume_id, "nowhere@x")
    node.repos.services.set_disabled(qcow2.split("#")[0], "cinder-volume", True, None)
    with pytest.raises(InvalidInput, match="No available service named"):
        request_migrate(ports, admin, volume_id, qcow2)
    node.repos.services.set_disabled(qcow2.split("#")[0], "cinder-volume", False, None)
    request_snapshot(ports, admin, SnapshotRequest(volume_id=volume_id))
    drain(ports)
    with pytest.raises(InvalidInput, match="must not be migrating, have snapshots"):
        request_migrate(ports, admin, volume_id, qcow2)
    volume = ports.volumes.get(volume_id)
    assert volume is not None and (volume.migration_status, volume.host) == (None, raw)
    assert ports.jobs.pending(ports.node) == []


def test_a_migrating_volume_cannot_migrate_again_nor_be_attached(ports: Ports, admin: Caller) -> None:
    from firebrick.domain.attachment.create import create_attachment

    volume_id, _ = _volume_with_data(ports, admin)
    qcow2 = _pool(ports, "qcow2").host
    request_migrate(ports, admin, volume_id, qcow2)
    with pytest.raises(InvalidInput, match="must not be migrating"):
        request_migrate(ports, admin, volume_id, qcow2)
    with pytest.raises(InvalidInput, match="is migrating"):
        create_attachment(ports, admin, volume_id, None, None, None)
    drain(ports)


def test_a_completion_for_no_migration_or_the_wrong_volume_is_refused(ports: Ports, admin: Caller) -> None:
    volume_id, _ = _volume_with_data(ports, admin)
    other, _ = _volume_with_data(ports, admin)
    with pytest.raises(InvalidInput, match="Source volume not mid-migration"):
        complete_migration(ports, admin, volume_id, other, error=False)
    request_migrate(ports, admin, volume_id, _pool(ports, "qcow2").host)
    # Moved on by hand, so no destination row was recorded: the job will find none.
    ports.volumes.transition_migration(volume_id, {MigrationStatus.STARTING}, MigrationStatus.MIGRATING)
    with pytest.raises(InvalidInput, match=f"expected target:{volume_id}"):
        complete_migration(ports, admin, volume_id, other, error=False)
    drain(ports)
    volume = ports.volumes.get(volume_id)
    assert volume is not None and (volume.status, volume.migration_status) == ("available", "error")

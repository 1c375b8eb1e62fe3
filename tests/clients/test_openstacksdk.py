"""Users' flows through openstacksdk's block-storage proxy, checked against what really happened.

openstacksdk 4.x warns about its own internals whatever the caller does: ``Resource._compute_attributes``
and ``Proxy``'s ``service_type`` argument (``RemovedInSDK50Warning``), and InfluxDB support, which
``CloudRegion`` reports for every connection because the config loader always hands it a non-empty
metrics dict (``RemovedInSDK60Warning``). Those three, by message, are ignored here; nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import openstack
import openstack.connection
import pytest
from openstack import exceptions

from firebrick.storage import FileBackend
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, OTHER_PASSWORD, RunningServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:The _compute_attributes method is deprecated:openstack.warnings.RemovedInSDK50Warning",
    "ignore:The 'service_type' parameter is unnecesary:openstack.warnings.RemovedInSDK50Warning",
    "ignore:Support for InfluxDB:openstack.warnings.RemovedInSDK60Warning",
)

GiB = 1024**3
WAIT = {"wait": 30, "interval": 0.05}


def connect(server: RunningServer, user: str, password: str, project: str) -> openstack.connection.Connection:
    return openstack.connect(
        auth_url=f"{server.url}/identity/v3",
        username=user,
        password=password,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
        block_storage_api_version="3",
        load_yaml_config=False,
        load_envvars=False,
    )


@pytest.fixture(scope="module")
def demo_sdk(server: RunningServer) -> Iterator[openstack.connection.Connection]:
    conn = connect(server, "demo", DEMO_PASSWORD, "demo")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def admin_sdk(server: RunningServer) -> Iterator[openstack.connection.Connection]:
    conn = connect(server, "admin", ADMIN_PASSWORD, "admin")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def other_sdk(server: RunningServer) -> Iterator[openstack.connection.Connection]:
    conn = connect(server, "other", OTHER_PASSWORD, "other")
    yield conn
    conn.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def driver(server: RunningServer) -> FileBackend:
    backend = server.node.pools[0].driver
    assert isinstance(backend, FileBackend)
    return backend


def test_volume_lifecycle_through_the_sdk(server: RunningServer, demo_sdk: openstack.connection.Connection) -> None:
    storage = demo_sdk.block_storage
    name = unique("sdk-vol")
    path = None
    volume = storage.create_volume(size=1, name=name, description="made by openstacksdk")
    try:
        assert volume.id and volume.name == name and volume.size == 1
        path = driver(server).volume_path(volume.id)
        volume = storage.wait_for_status(volume, "available", **WAIT)

        # The SDK's view, and the file on disk behind it.
        assert path.is_file()
        assert driver(server).inspect(volume.id).virtual_size == GiB
        shown = storage.get_volume(volume.id)
        assert (shown.name, shown.size, shown.status) == (name, 1, "available")
        assert shown.description == "made by openstacksdk"
        assert shown.availability_zone == server.settings.availability_zone
        assert shown.project_id == demo_sdk.current_project_id
        assert shown.is_bootable is False
        assert shown.attachments == []

        # Server-side filtering by name finds exactly this one.
        found = list(storage.volumes(details=True, name=name))
        assert [v.id for v in found] == [volume.id]
        assert list(storage.volumes(details=True, name=unique("nobody"))) == []
        assert storage.find_volume(name, ignore_missing=False).id == volume.id

        renamed = unique("sdk-renamed")
        storage.update_volume(volume, name=renamed, description="renamed")
        shown = storage.get_volume(volume.id)
        assert (shown.name, shown.description) == (renamed, "renamed")
        assert list(storage.volumes(name=name)) == []

        storage.set_volume_metadata(volume, purpose="test", owner="sdk")
        assert storage.get_volume(volume.id).metadata == {"purpose": "test", "owner": "sdk"}
        storage.delete_volume_metadata(volume, keys=["owner"])
        assert storage.get_volume(volume.id).metadata == {"purpose": "test"}
    finally:
        storage.delete_volume(volume, ignore_missing=True)
    storage.wait_for_delete(volume, **WAIT)

    assert path is not None and not path.exists()
    with pytest.raises(exceptions.ResourceNotFound):
        storage.get_volume(volume.id)
    with pytest.raises(exceptions.ResourceNotFound):
        storage.find_volume(volume.id, ignore_missing=False)


def test_snapshot_lifecycle_through_the_sdk(server: RunningServer, demo_sdk: openstack.connection.Connection) -> None:
    storage = demo_sdk.block_storage
    volume = storage.wait_for_status(storage.create_volume(size=1, name=unique("sdk-snapsrc")), "available", **WAIT)
    try:
        name = unique("sdk-snap")
        snapshot = storage.create_snapshot(volume_id=volume.id, name=name, description="point in time")
        snapshot = storage.wait_for_status(snapshot, "available", **WAIT)
        snapshot_file = driver(server).snapshot_path(snapshot.id)

        assert snapshot_file.is_file()
        shown = storage.get_snapshot(snapshot.id)
        assert (shown.name, shown.volume_id, shown.size, shown.status) == (name, volume.id, 1, "available")
        assert shown.description == "point in time"
        assert [s.id for s in storage.snapshots(details=True, volume_id=volume.id)] == [snapshot.id]

        # A volume with a snapshot cannot be deleted (Cinder: 400 badRequest).
        with pytest.raises(exceptions.BadRequestException):
            storage.delete_volume(volume)
        assert storage.get_volume(volume.id).status == "available"

        storage.delete_snapshot(snapshot)
        storage.wait_for_delete(snapshot, **WAIT)
        assert not snapshot_file.exists()
        with pytest.raises(exceptions.ResourceNotFound):
            storage.get_snapshot(snapshot.id)
    finally:
        storage.delete_volume(volume, ignore_missing=True)
        storage.wait_for_delete(volume, **WAIT)


def test_another_projects_volume_is_not_found(
    server: RunningServer, demo_sdk: openstack.connection.Connection, other_sdk: openstack.connection.Connection
) -> None:
    storage = demo_sdk.block_storage
    volume = storage.wait_for_status(storage.create_volume(size=1, name=unique("sdk-private")), "available", **WAIT)
    try:
        with pytest.raises(exceptions.ResourceNotFound):
            other_sdk.block_storage.get_volume(volume.id)
        assert volume.id not in {v.id for v in other_sdk.block_storage.volumes()}
        with pytest.raises(exceptions.ResourceNotFound):
            other_sdk.block_storage.delete_volume(volume.id, ignore_missing=False)
        with pytest.raises(exceptions.ResourceNotFound):
            other_sdk.block_storage.update_volume(volume.id, name="stolen")
        # Nothing happened to it.
        shown = storage.get_volume(volume.id)
        assert shown.status == "available" and shown.name != "stolen"
        assert driver(server).volume_path(volume.id).is_file()
    finally:
        storage.delete_volume(volume)
        storage.wait_for_delete(volume, **WAIT)


def test_admin_manages_types_and_members_use_them(
    admin_sdk: openstack.connection.Connection, demo_sdk: openstack.connection.Connection
) -> None:
    name = unique("sdk-type")
    volume_type = admin_sdk.block_storage.create_type(name=name, description="fast", extra_specs={"tier": "gold"})
    try:
        shown = admin_sdk.block_storage.get_type(volume_type.id)
        assert (shown.name, shown.description) == (name, "fast")
        assert shown.extra_specs == {"tier": "gold"}
        assert shown.is_public is True
        assert name in {t.name for t in demo_sdk.block_storage.types()}

        # A member creates a volume of that type by name.
        volume = demo_sdk.block_storage.create_volume(size=1, name=unique("sdk-typed"), volume_type=name)
        volume = demo_sdk.block_storage.wait_for_status(volume, "available", **WAIT)
        assert volume.volume_type == name
        demo_sdk.block_storage.delete_volume(volume)
        demo_sdk.block_storage.wait_for_delete(volume, **WAIT)
    finally:
        admin_sdk.block_storage.delete_type(volume_type)

    with pytest.raises(exceptions.ResourceNotFound):
        admin_sdk.block_storage.get_type(volume_type.id)
    assert name not in {t.name for t in admin_sdk.block_storage.types()}


def test_member_may_not_create_a_type(
    admin_sdk: openstack.connection.Connection, demo_sdk: openstack.connection.Connection
) -> None:
    name = unique("sdk-forbidden-type")

    with pytest.raises(exceptions.ForbiddenException) as raised:
        demo_sdk.block_storage.create_type(name=name)

    assert raised.value.status_code == 403
    assert name not in {t.name for t in admin_sdk.block_storage.types()}


def test_availability_zones_limits_and_services(
    admin_sdk: openstack.connection.Connection, demo_sdk: openstack.connection.Connection, server: RunningServer
) -> None:
    zones = list(demo_sdk.block_storage.availability_zones())
    assert [(z.name, z.state) for z in zones] == [(server.settings.availability_zone, {"available": True})]

    limits = demo_sdk.block_storage.get_limits()
    assert limits.absolute.max_total_volumes == server.settings.quota.volumes
    assert limits.absolute.max_total_volume_gigabytes == server.settings.quota.gigabytes
    assert limits.absolute.total_volumes_used >= 0
    assert limits.rate == []

    services = {s.binary: s for s in admin_sdk.block_storage.services()}
    assert services["cinder-volume"].state == "up" and services["cinder-volume"].status == "enabled"
    assert services["cinder-volume"].host == server.node.pools[0].host.split("#")[0]
    assert services["cinder-scheduler"].state == "up"
    with pytest.raises(exceptions.ForbiddenException):
        list(demo_sdk.block_storage.services())


def test_quota_and_limits_count_what_a_project_holds(
    server_factory: Callable[..., RunningServer],
) -> None:
    """On a private server, so that the counts are exact and nobody else is affected."""
    private = server_factory()
    admin = connect(private, "admin", ADMIN_PASSWORD, "admin")
    demo = connect(private, "demo", DEMO_PASSWORD, "demo")
    try:
        project_id = demo.current_project_id
        admin.block_storage.update_quota_set(project_id, volumes=2, gigabytes=3)
        assert demo.block_storage.get_quota_set(project_id).volumes == 2

        storage = demo.block_storage
        first = storage.wait_for_status(storage.create_volume(size=1, name="q1"), "available", **WAIT)
        second = storage.wait_for_status(storage.create_volume(size=2, name="q2"), "available", **WAIT)

        quota = demo.block_storage.get_quota_set(project_id, usage=True)
        assert quota.usage["volumes"] == 2 and quota.usage["gigabytes"] == 3
        assert quota.volumes == 2 and quota.gigabytes == 3
        limits = demo.block_storage.get_limits().absolute
        assert (limits.max_total_volumes, limits.total_volumes_used) == (2, 2)
        assert (limits.max_total_volume_gigabytes, limits.total_gigabytes_used) == (3, 3)

        # Over the volume count, then (after making room) over the gigabytes: 413 both times.
        with pytest.raises(exceptions.HttpException) as too_many:
            demo.block_storage.create_volume(size=1, name="q3")
        assert too_many.value.status_code == 413
        demo.block_storage.delete_volume(first)
        demo.block_storage.wait_for_delete(first, **WAIT)
        with pytest.raises(exceptions.HttpException) as too_big:
            demo.block_storage.create_volume(size=2, name="q4")
        assert too_big.value.status_code == 413

        # The refusals left nothing behind, in the API or on disk.
        assert {v.name for v in demo.block_storage.volumes()} == {"q2"}
        pool_files = sorted(p.name for p in private.settings.backends[0].path.glob("volume-*"))
        assert pool_files == [f"volume-{second.id}"]
        assert demo.block_storage.get_quota_set(project_id, usage=True).usage["volumes"] == 1
    finally:
        admin.close()
        demo.close()

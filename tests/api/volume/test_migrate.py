"""``os-migrate_volume``, ``os-migrate_volume_completion`` and ``os-retype`` on-demand over HTTP, on a
node with a raw and a qcow2 backend; attached moves run through the compute API's swap on the fake
hypervisor (tests/api/compute/test_migrate_guest.py does it on real QEMU)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from firebrick.domain.identity import Account, ensure_account
from firebrick.storage import FileBackend
from tests.api.compute._helpers import attach, create_server, delete_server, detach, public_image, wait
from tests.api.volume._helpers import MEMBER_PASSWORD, create_volume, fault, unique
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer, logged_in


@pytest.fixture
def node(server_factory: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    backends = tuple(
        BackendSettings(name=fmt, pool="pool", path=tmp_path / fmt, capacity_gb=20, format=fmt)
        for fmt in ("raw", "qcow2")
    )
    return server_factory(backends=backends)


@pytest.fixture
def admin(node: RunningServer) -> Iterator[ApiClient]:
    with logged_in(node, "admin", ADMIN_PASSWORD, "admin") as client:
        yield client


@pytest.fixture
def member(node: RunningServer) -> Iterator[ApiClient]:
    ensure_account(node.node.repos.identity, Account("mover", "admin", MEMBER_PASSWORD, ("member",)))
    with logged_in(node, "mover", MEMBER_PASSWORD, "admin") as client:
        yield client


def _host(node: RunningServer, fmt: str) -> str:
    return next(pool.host for pool in node.node.pools if pool.backend_name == fmt)


def _file(node: RunningServer, fmt: str, volume_id: str) -> Path:
    driver = next(pool.driver for pool in node.node.pools if pool.backend_name == fmt)
    assert isinstance(driver, FileBackend)
    return driver.volume_path(volume_id)


def _on_raw(admin: ApiClient, **fields: Any) -> dict[str, Any]:
    type_id = _type(admin, unique("on-raw"), "raw")
    return create_volume(admin, volume_type=type_id, **fields)


def _type(admin: ApiClient, name: str, backend: str) -> str:
    made = admin.volume("POST", "/types", json={"volume_type": {"name": name}})
    assert made.status_code == 200, made.text
    type_id: str = made.json()["volume_type"]["id"]
    specs = {"extra_specs": {"volume_backend_name": backend}}
    assert admin.volume("POST", f"/types/{type_id}/extra_specs", json=specs).status_code == 200
    return type_id


def _migrate(client: ApiClient, volume_id: str, **spec: Any) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", json={"os-migrate_volume": spec})


def _wait_migration(node: RunningServer, client: ApiClient, volume_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The volume once its migration ended and its job (which removes the source object last) is done."""

    def settled() -> dict[str, Any] | None:
        body: dict[str, Any] = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
        return body if body["migration_status"] in ("success", "error") else None

    wait(settled, f"migration of {volume_id}", timeout)
    node.wait_idle(timeout)
    found: dict[str, Any] = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    return found


def test_an_admin_moves_a_detached_volume_and_it_keeps_its_id(node: RunningServer, admin: ApiClient) -> None:
    volume = _on_raw(admin)
    _file(node, "raw", volume["id"]).write_bytes(b"written before the move".ljust(1 << 20, b"."))
    accepted = _migrate(admin, volume["id"], host=_host(node, "qcow2"), force_host_copy=False, lock_volume=False)
    assert accepted.status_code == 202, accepted.text
    moved = _wait_migration(node, admin, volume["id"])
    assert moved["migration_status"] == moved["os-vol-mig-status-attr:migstat"] == "success"
    assert (moved["id"], moved["status"], moved["os-vol-host-attr:host"]) == (
        volume["id"], "available", _host(node, "qcow2"),
    )  # fmt: skip
    assert not _file(node, "raw", volume["id"]).exists()
    assert _file(node, "qcow2", volume["id"]).read_bytes()[:4] == b"QFI\xfb"
    listed = admin.volume("GET", "/volumes?all_tenants=1").json()["volumes"]
    assert [v["id"] for v in listed].count(volume["id"]) == 1 and len(listed) == 1


def test_refusals_are_openstack_400s_and_change_nothing(node: RunningServer, admin: ApiClient) -> None:
    volume = _on_raw(admin)
    for spec, message in [
        ({}, "'host' is a required property"),
        ({"host": _host(node, "qcow2"), "colour": "red"}, "Additional properties are not allowed"),
        ({"host": _host(node, "qcow2"), "lock_volume": "maybe"}, "lock_volume"),
        ({"host": "elsewhere@nothing#pool"}, "Invalid host: No available service named elsewhere@nothing#pool"),
        ({"host": _host(node, "raw")}, "destination host/cluster must be different than the current one"),
    ]:
        assert message in fault(_migrate(admin, volume["id"], **spec), 400)
    after = admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert (after["migration_status"], after["os-vol-host-attr:host"]) == (None, _host(node, "raw"))
    completion = {"os-migrate_volume_completion": {"new_volume": volume["id"]}}
    refused = admin.volume("POST", f"/volumes/{volume['id']}/action", json=completion)
    assert fault(refused, 400) == "Invalid volume: Source volume not mid-migration."


def test_a_member_may_not_migrate_nor_complete(node: RunningServer, admin: ApiClient, member: ApiClient) -> None:
    volume = _on_raw(admin)
    fault(_migrate(member, volume["id"], host=_host(node, "qcow2")), 403)
    completion = {"os-migrate_volume_completion": {"new_volume": volume["id"], "error": False}}
    fault(member.volume("POST", f"/volumes/{volume['id']}/action", json=completion), 403)
    assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["migration_status"] is None


def test_an_attached_volume_moves_by_compute_swap_and_both_apis_agree(node: RunningServer, admin: ApiClient) -> None:
    server_id = create_server(admin, public_image(admin))
    volume = _on_raw(admin)
    attach(admin, server_id, volume["id"])
    assert _migrate(admin, volume["id"], host=_host(node, "qcow2")).status_code == 202
    moved = _wait_migration(node, admin, volume["id"])
    assert moved["migration_status"] == "success", moved
    assert (moved["status"], moved["os-vol-host-attr:host"]) == ("in-use", _host(node, "qcow2"))
    assert [a["server_id"] for a in moved["attachments"]] == [server_id]
    seen = admin.compute("GET", f"/servers/{server_id}/os-volume_attachments").json()["volumeAttachments"]
    assert [a["volumeId"] for a in seen] == [volume["id"]]
    assert not _file(node, "raw", volume["id"]).exists()
    listed = admin.volume("GET", "/volumes?all_tenants=1").json()["volumes"]
    assert [v["id"] for v in listed] == [volume["id"]]  # the temporary row is gone
    actions = admin.compute("GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    assert "swap_volume" in [a["action"] for a in actions]
    detach(admin, server_id, volume["id"])  # later operations find the moved volume
    delete_server(admin, server_id)


def test_retype_on_demand_moves_an_attached_volume_to_the_other_backend(node: RunningServer, admin: ApiClient) -> None:
    server_id = create_server(admin, public_image(admin))
    volume = _on_raw(admin)
    attach(admin, server_id, volume["id"])
    qcow2_type = _type(admin, unique("on-qcow2"), "qcow2")
    body = {"os-retype": {"new_type": qcow2_type, "migration_policy": "on-demand"}}
    assert admin.volume("POST", f"/volumes/{volume['id']}/action", json=body).status_code == 202
    done = _wait_migration(node, admin, volume["id"])
    assert (done["migration_status"], done["status"]) == ("success", "in-use"), done
    assert done["volume_type"] != volume["volume_type"]
    assert done["os-vol-host-attr:host"] == _host(node, "qcow2")
    assert _file(node, "qcow2", volume["id"]).read_bytes()[:4] == b"QFI\xfb"
    detach(admin, server_id, volume["id"])
    delete_server(admin, server_id)

"""Migrating attached volumes under real QEMU guests: the guest keeps running and writing while its
disk is mirrored from the raw pool to the qcow2 pool, and no byte is lost.

Two servers boot for the module (TCG); each test attaches its own volumes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from firebrick.storage import FileBackend
from firebrick.virt.qemu import QemuHypervisor
from tests.api.compute._helpers import attach, create_server, public_image, qemu_node, wait
from tests.api.volume._helpers import create_volume, unique
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer, api_client

MiB = 1024**2
_BLOCK = 64 * 1024
_LATE_START = 512 * MiB  # where the guest writes while the mirror runs
_LATE_BLOCKS = 48


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("migrate-guest")
    backends = tuple(
        BackendSettings(name=fmt, pool="pool", path=data_dir / "pools" / fmt, capacity_gb=20, format=fmt)
        for fmt in ("raw", "qcow2")
    )
    with qemu_node(data_dir, backends=backends) as running:
        yield running


@pytest.fixture(scope="module")
def admin(node: RunningServer) -> Iterator[ApiClient]:
    client = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def guests(node: RunningServer, admin: ApiClient) -> Iterator[tuple[str, str]]:
    image = public_image(admin)
    first, second = create_server(admin, image, timeout=180), create_server(admin, image, timeout=180)
    yield first, second
    for server_id in (first, second):
        admin.compute("DELETE", f"/servers/{server_id}")
    for server_id in (first, second):
        wait(lambda s=server_id: admin.compute("GET", f"/servers/{s}").status_code == 404, "server gone", timeout=60)


def _hypervisor(node: RunningServer) -> QemuHypervisor:
    driver = node.node.hypervisor
    assert isinstance(driver, QemuHypervisor)
    return driver


def _host(node: RunningServer, fmt: str) -> str:
    return next(pool.host for pool in node.node.pools if pool.backend_name == fmt)


def _file(node: RunningServer, fmt: str, volume_id: str) -> Path:
    driver = next(pool.driver for pool in node.node.pools if pool.backend_name == fmt)
    assert isinstance(driver, FileBackend)
    return driver.volume_path(volume_id)


def _type(admin: ApiClient, backend: str) -> str:
    made = admin.volume("POST", "/types", json={"volume_type": {"name": unique(f"on-{backend}")}})
    type_id: str = made.json()["volume_type"]["id"]
    specs = {"extra_specs": {"volume_backend_name": backend}}
    assert admin.volume("POST", f"/types/{type_id}/extra_specs", json=specs).status_code == 200
    return type_id


def _device(node: RunningServer, server_id: str, volume_id: str) -> str:
    serial = volume_id[:20]
    find = f'for d in /sys/block/vd*; do [ "$(cat $d/serial)" = {serial} ] && echo ${{d##*/}}; done'


    def named() -> str | None:
        # Only a device name counts: until the disk appears, the loop prints cat's complaint.
        shown = _hypervisor(node).run_in_guest(server_id, find).strip()
        return shown if shown.startswith("vd") and " " not in shown else None

    found: str = wait(named, f"disk {serial} in the guest")
    return found


def _pattern(name: str) -> bytes:
    line = f"{name}\n".encode()
    return (line * (_BLOCK // len(line) + 1))[:_BLOCK]


def _guest_write(node: RunningServer, server_id: str, device: str, name: str, block: int) -> None:
    """One 64 KiB block of ``name`` lines at block ``block``, flushed to the host."""
    command = f"yes {name} | head -c {_BLOCK} | dd of=/dev/{device} bs={_BLOCK} seek={block} conv=fsync 2>/dev/null"
    _hypervisor(node).run_in_guest(server_id, command, timeout=60)


def _as_raw(path: Path, fmt: str) -> Path:
    raw = path.with_name(f"check-{path.name}")
    subprocess.run(["qemu-img", "convert", "-U", "-f", fmt, "-O", "raw", str(path), str(raw)], check=True)
    return raw


def _block(raw: Path, block: int) -> bytes:
    with raw.open("rb") as stream:
        stream.seek(block * _BLOCK)
        return stream.read(_BLOCK)


def _open_files(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue  # closed while we looked
    return {path for path in found if path.startswith("/")}


def _wait_ended(node: RunningServer, admin: ApiClient, volume_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.volume("GET", f"/volumes/{volume_id}").json()["volume"]
        return body if body["migration_status"] in ("success", "error") else None

    wait(ended, f"migration of {volume_id}", timeout=300)
    node.wait_idle(60)
    found: dict[str, Any] = admin.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    return found


def test_a_guest_keeps_writing_while_its_disk_moves_and_no_byte_is_lost(
    node: RunningServer, admin: ApiClient, guests: tuple[str, str]
) -> None:
    server_id, neighbour = guests
    volume = create_volume(admin, volume_type=_type(admin, "raw"))
    attach(admin, server_id, volume["id"])
    attach(admin, neighbour, create_volume(admin, volume_type=_type(admin, "raw"))["id"])
    device = _device(node, server_id, volume["id"])
    _guest_write(node, server_id, device, "PATTERN-A", 0)
    # The writer runs in the guest's background, started just before the move and still going during it.
    first = _LATE_START // _BLOCK
    writer = (
        f"(i=0; while [ $i -lt {_LATE_BLOCKS} ]; do yes PATTERN-B | head -c {_BLOCK} | "
        f"dd of=/dev/{device} bs={_BLOCK} seek=$(({first} + i)) conv=fsync 2>/dev/null; i=$((i + 1)); done) "
        "& echo writing"
    )
    _hypervisor(node).run_in_guest(server_id, writer)
    action = {"os-migrate_volume": {"host": _host(node, "qcow2"), "force_host_copy": False}}
    assert admin.volume("POST", f"/volumes/{volume['id']}/action", json=action).status_code == 202
    moved = _wait_ended(node, admin, volume["id"])
    assert moved["migration_status"] == "success", moved
    assert (moved["id"], moved["status"], moved["os-vol-host-attr:host"]) == (
        volume["id"], "in-use", _host(node, "qcow2"),
    )  # fmt: skip
    _hypervisor(node).run_in_guest(server_id, "wait", timeout=180)  # the guest's writer has finished
    # The guest still reads what it wrote before the move, from the moved disk.
    read = f"dd if=/dev/{device} bs={_BLOCK} count=1 iflag=direct 2>/dev/null | md5sum"
    echoed = _hypervisor(node).run_in_guest(server_id, read, timeout=60)
    assert echoed.split()[0] == hashlib.md5(_pattern("PATTERN-A")).hexdigest()  # noqa: S324 - the guest's md5sum
    destination, source = _file(node, "qcow2", volume["id"]), _file(node, "raw", volume["id"])
    assert not source.exists()
    raw = _as_raw(destination, "qcow2")
    try:
        assert _block(raw, 0) == _pattern("PATTERN-A")
        late = [_block(raw, first + i) == _pattern("PATTERN-B") for i in range(_LATE_BLOCKS)]
        assert all(late), f"{late.count(False)} of the blocks written during the move are missing"
    finally:
        raw.unlink()
    # Both APIs name the volume by the id it kept.
    seen = admin.compute("GET", f"/servers/{server_id}/os-volume_attachments").json()["volumeAttachments"]
    assert [a["volumeId"] for a in seen] == [volume["id"]]
    assert [a["server_id"] for a in moved["attachments"]] == [server_id]
    # On the host: this guest's QEMU has the destination open, nobody has the source, no file is shared.
    pids = [_hypervisor(node).pid(s) for s in guests]
    assert None not in pids
    opened = [_open_files(pid) for pid in pids if pid is not None]
    assert str(destination) in opened[0] and all(str(source) not in files for files in opened)
    images = [{path for path in files if "/pools/" in path} for files in opened]
    assert not images[0] & images[1]


def test_an_attached_retype_on_demand_moves_the_disk_from_raw_to_qcow2(
    node: RunningServer, admin: ApiClient, guests: tuple[str, str]
) -> None:
    server_id, _ = guests
    volume = create_volume(admin, volume_type=_type(admin, "raw"))
    attach(admin, server_id, volume["id"])
    device = _device(node, server_id, volume["id"])
    _guest_write(node, server_id, device, "BEFORE-RETYPE", 3)
    retype = {"os-retype": {"new_type": _type(admin, "qcow2"), "migration_policy": "on-demand"}}
    assert admin.volume("POST", f"/volumes/{volume['id']}/action", json=retype).status_code == 202
    done = _wait_ended(node, admin, volume["id"])
    assert (done["migration_status"], done["status"], done["os-vol-host-attr:host"]) == (
        "success", "in-use", _host(node, "qcow2"),
    )  # fmt: skip
    _guest_write(node, server_id, device, "AFTER-RETYPE", 4)  # the guest writes on, into the new file
    raw = _as_raw(_file(node, "qcow2", volume["id"]), "qcow2")
    try:
        assert _block(raw, 4) == _pattern("AFTER-RETYPE")
        assert _block(raw, 3) == _pattern("BEFORE-RETYPE")
    finally:
        raw.unlink()

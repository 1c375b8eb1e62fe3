"""The whole path on the real parts: a QEMU guest, volumes as files, both APIs over HTTP.

One server boots for the module (about 4 s under TCG); each test attaches its own
volumes to it. What the guest sees is read from its serial console through the
compute API (``DISK <serial> <bytes>`` lines) and, for bytes, by running a command
inside the guest.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from firebrick.virt.qemu import QemuHypervisor
from tests.api.compute._helpers import attach, create_server, detach, public_image, volume_status, wait
from tests.api.volume._helpers import create_volume, fault, file_backend
from tests.conftest import (
    ADMIN_PASSWORD,
    DEMO_PASSWORD,
    ApiClient,
    RunningServer,
    api_client,
    database_url,
    make_settings,
    start_server,
)

GiB = 1024**3


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("guest")
    urls = database_url(data_dir)
    running = start_server(
        make_settings(data_dir, next(urls), hypervisor="qemu", accel="tcg", extend_confirm_timeout=60)
    )
    try:
        yield running
    finally:
        running.stop()
        next(urls, None)


@pytest.fixture(scope="module")
def demo(node: RunningServer) -> Iterator[ApiClient]:
    client = api_client(node, "demo", DEMO_PASSWORD, "demo")
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def guest(node: RunningServer, demo: ApiClient) -> Iterator[str]:
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    image = public_image(admin)
    admin.http.close()
    server_id = create_server(demo, image, timeout=180)
    yield server_id
    demo.compute("DELETE", f"/servers/{server_id}")
    wait(lambda: demo.compute("GET", f"/servers/{server_id}").status_code == 404, "server gone", timeout=60)
    assert hypervisor(node).pid(server_id) is None  # no QEMU process is left behind


def hypervisor(node: RunningServer) -> QemuHypervisor:
    driver = node.node.hypervisor
    assert isinstance(driver, QemuHypervisor)
    return driver


def console(demo: ApiClient, server_id: str) -> list[str]:
    answer = demo.compute("POST", f"/servers/{server_id}/action", json={"os-getConsoleOutput": {}})
    assert answer.status_code == 200, answer.text
    lines: list[str] = answer.json()["output"].splitlines()
    return lines


def guest_reports(demo: ApiClient, server_id: str, line: str) -> None:
    wait(lambda: line in console(demo, server_id), f"the guest to report {line!r}", timeout=30)


def extend_attached_to_2_gib(demo: ApiClient, server_id: str, volume_id: str) -> None:
    """os-extend at 3.42 of an attached 1 GiB volume: in-use at 2 GiB only once the guest has shown it."""
    serial = volume_id[:20]
    guest_reports(demo, server_id, f"DISK {serial} {GiB}")
    extend = demo.volume("POST", f"/volumes/{volume_id}/action", version="3.42", json={"os-extend": {"new_size": 2}})
    assert extend.status_code == 202, extend.text
    wait(lambda: volume_status(demo, volume_id) != "extending", "the extend to settle", timeout=60)
    shown = demo.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    assert (shown["status"], shown["size"]) == ("in-use", 2)
    # The volume became in-use only after the guest said so: the line is already there.
    assert f"DISK {serial} {2 * GiB}" in console(demo, server_id)


def _write_pattern(path: Path) -> str:
    chunk = hashlib.sha256(path.name.encode()).digest() * 128  # 4 KiB that only this volume holds
    with path.open("r+b") as volume_file:
        volume_file.write(chunk)
    return hashlib.md5(chunk).hexdigest()  # noqa: S324 - busybox md5sum is what the guest has


def test_attach_shows_the_disk_in_the_guest_with_its_bytes(node: RunningServer, demo: ApiClient, guest: str) -> None:
    volume = create_volume(demo)
    digest = _write_pattern(file_backend(node).volume_path(volume["id"]))
    answer = attach(demo, guest, volume["id"])
    serial = volume["id"][:20]
    guest_reports(demo, guest, f"DISK {serial} {GiB}")
    find = f'for d in /sys/block/vd*; do [ "$(cat $d/serial)" = {serial} ] && echo ${{d##*/}}; done'
    device = hypervisor(node).run_in_guest(guest, find).strip()
    assert device.startswith("vd")
    read = hypervisor(node).run_in_guest(guest, f"dd if=/dev/{device} bs=4096 count=1 2>/dev/null | md5sum")
    assert read.split()[0] == digest
    assert answer["device"].startswith("/dev/vd")
    detach(demo, guest, volume["id"])
    guest_reports(demo, guest, f"DISK-GONE {serial}")


def test_an_attached_extend_ends_when_the_guest_sees_the_new_size(demo: ApiClient, guest: str) -> None:
    volume = create_volume(demo)
    attach(demo, guest, volume["id"])
    extend_attached_to_2_gib(demo, guest, volume["id"])
    actions = demo.compute("GET", f"/servers/{guest}/os-instance-actions").json()["instanceActions"]
    [extended] = [a for a in actions if a["action"] == "extend_volume"]
    shown_action = demo.compute("GET", f"/servers/{guest}/os-instance-actions/{extended['request_id']}", version="2.51")
    [step] = shown_action.json()["instanceAction"]["events"]
    assert (step["event"], step["result"]) == ("compute_extend_volume", "Success")
    detach(demo, guest, volume["id"])


def test_a_direct_swap_changes_nothing_in_the_guest(node: RunningServer, demo: ApiClient, guest: str) -> None:
    old, new = create_volume(demo), create_volume(demo)
    attach(demo, guest, old["id"])
    guest_reports(demo, guest, f"DISK {old['id'][:20]} {GiB}")
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    body = {"volumeAttachment": {"volumeId": new["id"]}}
    fault(admin.compute("PUT", f"/servers/{guest}/os-volume_attachments/{old['id']}", json=body), 409)
    admin.http.close()
    assert f"DISK {new['id'][:20]} {GiB}" not in console(demo, guest)
    assert volume_status(demo, new["id"]) == "available"
    detach(demo, guest, old["id"])


def test_stop_and_start_bring_the_disks_back(demo: ApiClient, guest: str) -> None:
    volume = create_volume(demo)
    attach(demo, guest, volume["id"])
    assert demo.compute("POST", f"/servers/{guest}/action", json={"os-stop": None}).status_code == 202
    wait(lambda: demo.compute("GET", f"/servers/{guest}").json()["server"]["status"] == "SHUTOFF", "shutoff")
    assert demo.compute("POST", f"/servers/{guest}/action", json={"os-start": None}).status_code == 202
    wait(lambda: demo.compute("GET", f"/servers/{guest}").json()["server"]["status"] == "ACTIVE", "active", 120)
    lines = console(demo, guest)
    last_boot = len(lines) - 1 - lines[::-1].index("GUEST-READY")
    assert any(line == f"DISK {volume['id'][:20]} {GiB}" for line in lines[last_boot - 20 :])
    detach(demo, guest, volume["id"])


def test_an_attached_qcow2_volume_is_grown_by_the_hypervisor(node: RunningServer, demo: ApiClient, guest: str) -> None:
    """qemu-img cannot resize an image a guest holds open; the guest's QEMU grows it (block_resize)."""
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    made = admin.volume("POST", "/types", json={"volume_type": {"name": "qcow2"}})
    type_id = made.json()["volume_type"]["id"]
    admin.volume("POST", f"/types/{type_id}/extra_specs", json={"extra_specs": {"firebrick:disk_format": "qcow2"}})
    admin.http.close()
    volume = create_volume(demo, volume_type=type_id)
    path = file_backend(node).volume_path(volume["id"])
    assert path.read_bytes()[:4] == b"QFI\xfb"
    attach(demo, guest, volume["id"])
    extend_attached_to_2_gib(demo, guest, volume["id"])
    info = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True, check=True)
    assert json.loads(info.stdout)["virtual-size"] == 2 * GiB
    detach(demo, guest, volume["id"])


def test_a_forced_snapshot_of_an_attached_volume(node: RunningServer, demo: ApiClient, guest: str) -> None:
    """A running guest holds the image locked: the snapshot reads it shared, as a crash-consistent copy."""
    volume = create_volume(demo)
    digest = _write_pattern(file_backend(node).volume_path(volume["id"]))
    attach(demo, guest, volume["id"])
    body = {"snapshot": {"volume_id": volume["id"], "force": True}}
    made = demo.volume("POST", "/snapshots", json=body)
    assert made.status_code == 202, made.text
    snapshot = demo.wait_snapshot(made.json()["snapshot"]["id"], "available", "error")
    assert snapshot["status"] == "available", snapshot
    copy = file_backend(node).snapshot_path(snapshot["id"]).read_bytes()[:4096]
    assert hashlib.md5(copy).hexdigest() == digest  # noqa: S324 - the same digest as the guest-side check
    assert demo.volume("DELETE", f"/snapshots/{snapshot['id']}").status_code == 202
    demo.wait_gone(f"/snapshots/{snapshot['id']}")
    detach(demo, guest, volume["id"])


def test_a_restart_finds_the_running_guest_again(server_factory: Callable[..., RunningServer]) -> None:
    """firebrick stops; the guest keeps running; the next start reconnects to it, disks and all."""
    first = server_factory(hypervisor="qemu", accel="tcg")
    admin = api_client(first, "admin", ADMIN_PASSWORD, "admin")
    demo = api_client(first, "demo", DEMO_PASSWORD, "demo")
    server_id = create_server(demo, public_image(admin), timeout=180)
    volume = create_volume(demo)
    attach(demo, server_id, volume["id"])
    guest_reports(demo, server_id, f"DISK {volume['id'][:20]} {GiB}")
    pid = hypervisor(first).pid(server_id)
    assert pid is not None
    demo.http.close()
    admin.http.close()
    first.stop()

    second = server_factory(hypervisor="qemu", accel="tcg")
    demo = api_client(second, "demo", DEMO_PASSWORD, "demo")
    wait(lambda: hypervisor(second).pid(server_id) == pid, "the same QEMU process to be found again", timeout=60)
    assert demo.compute("GET", f"/servers/{server_id}").json()["server"]["status"] == "ACTIVE"
    detach(demo, server_id, volume["id"])  # QMP works through the new connection
    guest_reports(demo, server_id, f"DISK-GONE {volume['id'][:20]}")
    assert demo.compute("DELETE", f"/servers/{server_id}").status_code == 204
    wait(lambda: demo.compute("GET", f"/servers/{server_id}").status_code == 404, "server gone", timeout=60)
    assert hypervisor(second).pid(server_id) is None
    demo.http.close()


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_a_managed_file_reaches_the_guest_byte_for_byte(node: RunningServer, guest: str, fmt: str) -> None:
    """A file an operator dropped into the pool: managed, attached, read in the guest, unmanaged, listed again."""
    pool = file_backend(node).volume_path("x").parent
    chunk = hashlib.sha256(fmt.encode()).digest() * 128
    source = pool / f"dropped-{fmt}"
    raw = pool / ".scratch" if fmt == "qcow2" else source
    with raw.open("wb") as stream:
        stream.write(chunk)
        stream.truncate(GiB)
    if fmt == "qcow2":
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(source)], check=True)
        raw.unlink()
    host = node.node.pools[0].host
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    try:
        body = {"volume": {"host": host, "ref": {"source-name": source.name}, "name": f"managed-{fmt}"}}
        managed = admin.volume("POST", "/os-volume-manage", json=body)
        assert managed.status_code == 202, managed.text
        volume_id = managed.json()["volume"]["id"]
        assert admin.wait_volume(volume_id, "available", "error")["status"] == "available"

        attach(admin, guest, volume_id)
        serial = volume_id[:20]
        guest_reports(admin, guest, f"DISK {serial} {GiB}")
        find = f'for d in /sys/block/vd*; do [ "$(cat $d/serial)" = {serial} ] && echo ${{d##*/}}; done'
        device = hypervisor(node).run_in_guest(guest, find).strip()
        read = hypervisor(node).run_in_guest(guest, f"dd if=/dev/{device} bs=4096 count=1 2>/dev/null | md5sum")
        assert read.split()[0] == hashlib.md5(chunk).hexdigest()  # noqa: S324 - busybox md5sum is what the guest has
        detach(admin, guest, volume_id)

        unmanage = admin.volume("POST", f"/volumes/{volume_id}/action", json={"os-unmanage": None})
        assert unmanage.status_code == 202
        admin.wait_gone(f"/volumes/{volume_id}")
        listed = admin.volume("GET", f"/manageable_volumes?host={quote(host, safe='@')}", "3.8").json()
        assert {"reference": {"source-name": f"volume-{volume_id}"}, "size": 1, "safe_to_manage": True} in listed[
            "manageable-volumes"
        ]
    finally:
        admin.http.close()


def test_a_multiattach_volume_is_shared_by_two_running_guests(node: RunningServer, demo: ApiClient, guest: str) -> None:
    """Both QEMUs open the same file (share-rw): what one guest writes, the other reads."""
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    try:
        made = admin.volume("POST", "/types", json={"volume_type": {"name": f"shared-{guest[:8]}"}})
        type_id = made.json()["volume_type"]["id"]
        specs = {"extra_specs": {"multiattach": "<is> True"}}
        assert admin.volume("POST", f"/types/{type_id}/extra_specs", json=specs).status_code == 200
        other = create_server(demo, public_image(admin), timeout=180)
    finally:
        admin.http.close()
    volume = create_volume(demo, volume_type=type_id)
    serial = volume["id"][:20]
    for server_id in (guest, other):
        attach(demo, server_id, volume["id"], version="2.60")
        guest_reports(demo, server_id, f"DISK {serial} {GiB}")
    find = f'for d in /sys/block/vd*; do [ "$(cat $d/serial)" = {serial} ] && echo ${{d##*/}}; done'
    writer, reader = (hypervisor(node).run_in_guest(s, find).strip() for s in (guest, other))
    assert writer.startswith("vd") and reader.startswith("vd")
    write = f"yes shared-by-two | head -c 4096 | dd of=/dev/{writer} bs=4096 seek=7 conv=fsync 2>/dev/null"
    hypervisor(node).run_in_guest(guest, write)
    read = hypervisor(node).run_in_guest(other, f"dd if=/dev/{reader} bs=4096 skip=7 count=1 2>/dev/null | md5sum")
    expected = (b"shared-by-two\n" * 300)[:4096]
    assert read.split()[0] == hashlib.md5(expected).hexdigest()  # noqa: S324 - busybox md5sum is what the guest has

    path = str(file_backend(node).volume_path(volume["id"]))
    holders = [pid for s in (guest, other) if (pid := hypervisor(node).pid(s)) is not None]
    assert len(holders) == 2 and all(path in _open_files(pid) for pid in holders)
    for server_id in (guest, other):
        response = demo.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{volume['id']}")
        assert response.status_code == 202, response.text
        guest_reports(demo, server_id, f"DISK-GONE {serial}")
        # One detach at a time, as in Nova: the next begins once the volume is no longer detaching.
        wait(lambda: volume_status(demo, volume["id"]) in ("in-use", "available"), "the detach to end")
    assert volume_status(demo, volume["id"]) == "available"
    demo.compute("DELETE", f"/servers/{other}")


def _open_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(str(fd.readlink()))
        except OSError:
            continue  # closed while we looked
    return found

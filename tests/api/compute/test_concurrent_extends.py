"""Many attached extends at once (issue 11): the confirm wait is a stored deadline, not a parked thread.

An attached extend (``os-extend`` at 3.42 of an ``in-use`` volume) grows the file, records the
new size and stays ``extending`` until the compute side has resized the guest's disk, seen the
guest's ``DISK <serial> <bytes>`` line and called ``os-extend_volume_completion``. When the wait
held a job-runner thread, 8 such extends at once deadlocked the small pool (7 ended
``error_extending``). Here 64 run at once on the fake hypervisor and 4 on real QEMU guests: each
must end ``in-use`` at the new size (a wait that ran out would be ``error_extending`` at the old
one), with the new size in its guest's console and in its file, and no job left over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from firebrick.config import QuotaSettings
from firebrick.virt.qemu import QemuHypervisor
from tests.api.compute._helpers import FLAVOR, attach, public_image, qemu_node, server_status, wait
from tests.api.volume._helpers import create_volume, file_backend
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, api_client

GiB = 1024**3
CONFIRM_TIMEOUT = 30  # seconds an attached extend waits for the guest before it gives up
# Under this many requests at once one call can take several seconds on a small CI machine (2 CPUs):
# more than httpx's 5 s default. What is measured here is the outcome, not the latency.
HTTP_TIMEOUT = httpx.Timeout(60.0)


def _clients(node: RunningServer) -> tuple[ApiClient, ApiClient]:
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    demo = api_client(node, "demo", DEMO_PASSWORD, "demo")
    admin.http.timeout = demo.http.timeout = HTTP_TIMEOUT
    return admin, demo


def _console(client: ApiClient, server_id: str) -> list[str]:
    answer = client.compute("POST", f"/servers/{server_id}/action", json={"os-getConsoleOutput": {}})
    assert answer.status_code == 200, answer.text
    lines: list[str] = answer.json()["output"].splitlines()
    return lines


def _volume(client: ApiClient, volume_id: str) -> dict[str, Any]:
    answer = client.volume("GET", f"/volumes/{volume_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["volume"]
    return body


def _boot(client: ApiClient, image_id: str) -> str:
    """POST a server (no wait); returns its id."""
    spec = {"name": "extend-guest", "flavorRef": FLAVOR, "imageRef": image_id}
    answer = client.compute("POST", "/servers", json={"server": spec})
    assert answer.status_code == 202, answer.text
    server_id: str = answer.json()["server"]["id"]
    return server_id


def _wait_active(client: ApiClient, server_id: str, timeout: float) -> None:
    wait(lambda: server_status(client, server_id) in ("ACTIVE", "ERROR"), f"server {server_id}", timeout)
    assert server_status(client, server_id) == "ACTIVE"


def _extend_all_at_once(client: ApiClient, volume_ids: list[str], new_size: int) -> list[httpx.Response]:
    """One thread per volume, released together by a barrier: every os-extend (3.42) is in flight at once."""
    barrier = threading.Barrier(len(volume_ids))

    def extend(volume_id: str) -> httpx.Response:
        barrier.wait(timeout=60)
        body = {"os-extend": {"new_size": new_size}}
        return client.volume("POST", f"/volumes/{volume_id}/action", version="3.42", json=body)

    with ThreadPoolExecutor(max_workers=len(volume_ids)) as pool:
        return list(pool.map(extend, volume_ids))


def _settled(
    client: ApiClient, volume_ids: list[str], started: float, timeout: float
) -> tuple[dict[str, dict[str, Any]], list[float]]:
    """Wait until no volume is ``extending`` (one listing per look); returns each volume as shown then,
    and the seconds after ``started`` at which each was first seen settled (sorted)."""
    wanted = set(volume_ids)
    shown: dict[str, dict[str, Any]] = {}
    seen_at: list[float] = []

    def done() -> bool:
        answer = client.volume("GET", "/volumes/detail?limit=1000")
        assert answer.status_code == 200, answer.text
        now = time.monotonic() - started
        for body in answer.json()["volumes"]:
            if body["id"] in wanted and body["id"] not in shown and body["status"] != "extending":
                shown[body["id"]] = body
                seen_at.append(now)
        return len(shown) == len(wanted)

    try:
        wait(done, "every extend to settle", timeout)
    except AssertionError:
        left = [_volume(client, v) for v in wanted - shown.keys()]
        stuck = [(b["id"], b["status"], b["size"]) for b in left]
        raise AssertionError(f"{len(left)} of {len(wanted)} volumes not settled after {timeout} s: {stuck}") from None
    return shown, sorted(seen_at)


def _extend_messages(client: ApiClient) -> list[dict[str, Any]]:
    answer = client.volume("GET", "/messages", version="3.3")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["messages"]
    return found


# --- 64 on the fake hypervisor ---------------------------------------------------------------


COUNT = 64


@pytest.fixture
def fake_node(server_factory: Callable[..., RunningServer]) -> RunningServer:
    quota = QuotaSettings(volumes=2 * COUNT, gigabytes=10 * COUNT)
    return server_factory(extend_confirm_timeout=CONFIRM_TIMEOUT, quota=quota)


def test_64_attached_extends_at_once_all_end_in_use_at_the_new_size(fake_node: RunningServer) -> None:
    admin, demo = _clients(fake_node)
    try:
        image = public_image(admin)
        phase = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            servers = list(pool.map(lambda _: _boot(demo, image), range(COUNT)))
            volumes = [v["id"] for v in pool.map(lambda _: create_volume(demo), range(COUNT))]
            list(pool.map(lambda s: _wait_active(demo, s, 60), servers))
            print(f"\n{COUNT} servers and volumes in {time.monotonic() - phase:.1f} s")
            phase = time.monotonic()
            list(pool.map(lambda pair: attach(demo, *pair), zip(servers, volumes, strict=True)))
            print(f"{COUNT} attachments in {time.monotonic() - phase:.1f} s")
        pairs = list(zip(servers, volumes, strict=True))
        for server_id, volume_id in pairs:  # each guest saw its disk at 1 GiB
            assert f"DISK {volume_id[:20]} {GiB}" in _console(demo, server_id)

        started = time.monotonic()
        answers = _extend_all_at_once(demo, volumes, 2)
        assert [a.status_code for a in answers] == [202] * COUNT, [a.text for a in answers if a.status_code != 202]
        shown, seen_at = _settled(demo, volumes, started, timeout=3 * CONFIRM_TIMEOUT)

        outcomes = {v: (body["status"], body["size"]) for v, body in shown.items()}
        wrong = {v: o for v, o in outcomes.items() if o != ("in-use", 2)}
        assert (len(outcomes), wrong) == (COUNT, {})
        assert _extend_messages(demo) == []
        backend = file_backend(fake_node)
        for server_id, volume_id in pairs:
            lines = _console(demo, server_id)
            assert f"DISK {volume_id[:20]} {2 * GiB}" in lines, (server_id, volume_id, lines)
            assert backend.volume_path(volume_id).stat().st_size == 2 * GiB
        fake_node.wait_idle(timeout=30)  # no job is left behind (no late confirm, no stray retry)
        print(
            f"{COUNT} attached extends settled: first {seen_at[0]:.2f} s, median {seen_at[COUNT // 2]:.2f} s, "
            f"last {seen_at[-1]:.2f} s"
        )
    finally:
        admin.http.close()
        demo.http.close()


# --- 4 on real QEMU guests -------------------------------------------------------------------


GUESTS = 4


@pytest.fixture(scope="module")
def qemu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with qemu_node(tmp_path_factory.mktemp("extends"), extend_confirm_timeout=120) as running:
        yield running


def _hypervisor(node: RunningServer) -> QemuHypervisor:
    driver = node.node.hypervisor
    assert isinstance(driver, QemuHypervisor)
    return driver


@pytest.fixture
def guests(qemu: RunningServer) -> Iterator[tuple[ApiClient, list[str]]]:
    """GUESTS running QEMU guests (booted together); every one is deleted afterwards, even on failure."""
    admin, demo = _clients(qemu)
    servers: list[str] = []
    try:
        image = public_image(admin)
        servers.extend(_boot(demo, image) for _ in range(GUESTS))
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=GUESTS) as pool:
            list(pool.map(lambda s: _wait_active(demo, s, 300), servers))
        for server_id in servers:
            wait(lambda s=server_id: "GUEST-READY" in _console(demo, s), f"{server_id} to boot", timeout=300)
        print(f"\n{GUESTS} guests booted in {time.monotonic() - started:.1f} s")
        yield demo, servers
    finally:
        _delete_guests(qemu, demo, servers)
        admin.http.close()
        demo.http.close()


def _delete_guests(node: RunningServer, client: ApiClient, servers: list[str]) -> None:
    for server_id in servers:
        client.compute("DELETE", f"/servers/{server_id}")
    hypervisor = _hypervisor(node)
    for server_id in servers:
        try:
            wait(lambda s=server_id: server_status(client, s) == "GONE", f"server {server_id} gone", timeout=60)
        finally:
            if hypervisor.pid(server_id) is not None:  # the API did not get rid of it: do not leave it running
                hypervisor.destroy(server_id)
    assert [s for s in servers if hypervisor.pid(s) is not None] == []


@pytest.mark.qemu
def test_4_attached_extends_at_once_on_real_guests(qemu: RunningServer, guests: tuple[ApiClient, list[str]]) -> None:
    demo, servers = guests
    with ThreadPoolExecutor(max_workers=GUESTS) as pool:
        volumes = [v["id"] for v in pool.map(lambda _: create_volume(demo), servers)]
        list(pool.map(lambda pair: attach(demo, *pair), zip(servers, volumes, strict=True)))
    pairs = list(zip(servers, volumes, strict=True))
    for server_id, volume_id in pairs:
        line = f"DISK {volume_id[:20]} {GiB}"
        wait(lambda s=server_id, line=line: line in _console(demo, s), f"{server_id} to show {line!r}", timeout=60)

    started = time.monotonic()
    answers = _extend_all_at_once(demo, volumes, 2)
    assert [a.status_code for a in answers] == [202] * GUESTS, [a.text for a in answers]
    shown, seen_at = _settled(demo, volumes, started, timeout=180)

    outcomes = {v: (body["status"], body["size"]) for v, body in shown.items()}
    assert outcomes == {v: ("in-use", 2) for v in volumes}
    assert _extend_messages(demo) == []
    backend = file_backend(qemu)
    for server_id, volume_id in pairs:
        # in-use only once the guest said so: the line is already in its console.
        lines = _console(demo, server_id)
        assert f"DISK {volume_id[:20]} {2 * GiB}" in lines, (server_id, volume_id, lines[-20:])
        assert backend.volume_path(volume_id).stat().st_size == 2 * GiB
    print(f"\n{GUESTS} attached extends on QEMU guests settled after " + ", ".join(f"{t:.1f}" for t in seen_at) + " s")

"""Helpers for the compute API tests: servers that become ACTIVE, attachments that complete."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import ApiClient, RunningServer, database_url, make_settings, start_server

FLAVOR = "1"


def wait(check: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def server_status(client: ApiClient, server_id: str) -> str:
    response = client.compute("GET", f"/servers/{server_id}")
    if response.status_code == 404:
        return "GONE"
    status: str = response.json()["server"]["status"]
    return status


def create_server(client: ApiClient, image_id: str | None = None, timeout: float = 60.0, **extra: Any) -> str:
    """POST a server and wait for ACTIVE; returns its id."""
    spec: dict[str, Any] = {"name": "guest", "flavorRef": FLAVOR, **extra}
    if image_id is not None:
        spec["imageRef"] = image_id
    response = client.compute("POST", "/servers", json={"server": spec})
    assert response.status_code == 202, response.text
    server_id: str = response.json()["server"]["id"]
    wait(lambda: server_status(client, server_id) in ("ACTIVE", "ERROR"), f"server {server_id}", timeout)
    assert server_status(client, server_id) == "ACTIVE"
    return server_id


def delete_server(client: ApiClient, server_id: str) -> None:
    response = client.compute("DELETE", f"/servers/{server_id}")
    assert response.status_code in (204, 404), response.text
    wait(lambda: server_status(client, server_id) == "GONE", f"server {server_id} gone")


def volume_status(client: ApiClient, volume_id: str) -> str:
    status: str = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]["status"]
    return status


def attach(client: ApiClient, server_id: str, volume_id: str, version: str | None = None, **extra: Any) -> Any:
    """Attach and wait until the volume is in-use; returns the attach response body."""
    body = {"volumeAttachment": {"volumeId": volume_id, **extra}}
    response = client.compute("POST", f"/servers/{server_id}/os-volume_attachments", version=version, json=body)
    assert response.status_code == 200, response.text
    wait(lambda: volume_status(client, volume_id) == "in-use", f"volume {volume_id} in-use")
    return response.json()["volumeAttachment"]


def detach(client: ApiClient, server_id: str, volume_id: str) -> None:
    response = client.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{volume_id}")
    assert response.status_code == 202, response.text
    wait(lambda: volume_status(client, volume_id) == "available", f"volume {volume_id} available")


def public_image(admin: ApiClient) -> str:
    """An active public image (1 MiB of zeros) for servers to boot from."""
    spec = {"name": "cirros-ish", "disk_format": "raw", "container_format": "bare", "visibility": "public"}
    created = admin.http.post("/image/v2/images", json=spec)
    assert created.status_code == 201, created.text
    image_id: str = created.json()["id"]
    headers = {"Content-Type": "application/octet-stream"}
    uploaded = admin.http.put(f"/image/v2/images/{image_id}/file", content=b"\0" * 1024 * 1024, headers=headers)
    assert uploaded.status_code == 204, uploaded.text
    return image_id


@contextmanager
def qemu_node(data_dir: Path, **settings: Any) -> Iterator[RunningServer]:
    """A firebrick whose servers are real QEMU guests (TCG: KVM cannot boot a stock kernel here);
    ``settings`` override others (``backends``, say)."""
    urls = database_url(data_dir)
    running = start_server(
        make_settings(data_dir, next(urls), **{"hypervisor": "qemu", "accel": "tcg", "extend_confirm_timeout": 60,
                                               **settings})  # fmt: skip
    )
    try:
        yield running
    finally:
        running.stop()
        next(urls, None)

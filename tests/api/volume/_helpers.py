"""Small helpers shared by the volume API tests (no fixtures: each module wires its own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from firebrick.domain.identity import Account, ensure_account
from firebrick.storage import FileBackend
from tests.conftest import ApiClient, RunningServer, api_client

MEMBER_PASSWORD = "member-secret"
MISSING_ID = "00000000-0000-0000-0000-000000000000"
FAULT_NAMES = {
    400: "badRequest",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
}


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def fault(response: httpx.Response, status: int) -> str:
    """Assert an OpenStack fault body of exactly that status; return its message."""
    assert response.status_code == status, (response.status_code, response.text)
    # A 401 comes from the token check, in keystonemiddleware's shape, as in front of Cinder.
    name = "error" if status == 401 else FAULT_NAMES.get(status, "computeFault")
    body = response.json()
    assert list(body) == [name], body
    expected_keys = {"code", "message", "retryAfter"} if status == 413 else {"code", "message"}
    if status == 401:
        expected_keys = {"code", "message", "title"}
    assert set(body[name]) == expected_keys, body
    assert body[name]["code"] == status
    message: str = body[name]["message"]
    assert isinstance(message, str)
    return message


def create_volume(client: ApiClient, size: int | str | None = 1, wait: bool = True, **fields: Any) -> dict[str, Any]:
    """POST a volume (a unique name unless one is given); by default wait until it is available."""
    spec: dict[str, Any] = {"size": size, "name": unique("vol"), **fields}
    response = client.volume("POST", "/volumes", json={"volume": spec})
    assert response.status_code == 202, response.text
    volume: dict[str, Any] = response.json()["volume"]
    if not wait:
        return volume
    volume = client.wait_volume(volume["id"], "available", "error")
    assert volume["status"] == "available", volume
    return volume


def delete_volume(client: ApiClient, volume_id: str, query: str = "") -> None:
    response = client.volume("DELETE", f"/volumes/{volume_id}{query}")
    assert response.status_code == 202, response.text
    client.wait_gone(f"/volumes/{volume_id}")


def create_snapshot(client: ApiClient, volume_id: str, **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"volume_id": volume_id, "name": unique("snap"), **fields}
    response = client.volume("POST", "/snapshots", json={"snapshot": spec})
    assert response.status_code == 202, response.text
    snapshot = client.wait_snapshot(response.json()["snapshot"]["id"], "available", "error")
    assert snapshot["status"] == "available", snapshot
    return snapshot


def delete_snapshot(client: ApiClient, snapshot_id: str) -> None:
    response = client.volume("DELETE", f"/snapshots/{snapshot_id}")
    assert response.status_code == 202, response.text
    client.wait_gone(f"/snapshots/{snapshot_id}")


def volume_ids(client: ApiClient, query: str = "") -> list[str]:
    """Ids of the caller's volumes (one listing of at most 1000)."""
    response = client.volume("GET", f"/volumes{query}")
    assert response.status_code == 200, response.text
    return [v["id"] for v in response.json()["volumes"]]


def volume_count(client: ApiClient) -> int:
    response = client.volume("GET", "/volumes?with_count=true&limit=1", version="3.45")
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def named(client: ApiClient, name: str) -> list[str]:
    """Ids of the caller's volumes with exactly this name."""
    return volume_ids(client, f"?name={name}")


def file_backend(server: RunningServer, index: int = 0) -> FileBackend:
    driver = server.node.pools[index].driver
    assert isinstance(driver, FileBackend)
    return driver


def project_id(server: RunningServer, name: str) -> str:
    project = server.node.repos.identity.project(name=name)
    assert project is not None
    return project.id


@contextmanager
def fresh_member(server: RunningServer, role: str = "member") -> Iterator[ApiClient]:
    """A client for a user with ``role`` in a brand-new project no other test touches."""
    name = unique("proj")
    ensure_account(server.node.repos.identity, Account(name, name, MEMBER_PASSWORD, (role,)))
    client = api_client(server, name, MEMBER_PASSWORD, name)
    try:
        yield client
        for snapshot in client.volume("GET", "/snapshots").json()["snapshots"]:
            client.wait_snapshot(snapshot["id"], "available", "error")
        for volume_id in volume_ids(client):
            client.wait_volume(volume_id, "available", "error")
            delete_volume(client, volume_id, "?cascade=true")
    finally:
        client.http.close()

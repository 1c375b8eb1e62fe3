"""Helpers for the Image v2 API tests: raw HTTP under /image as one user."""

from __future__ import annotations

import errno
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ApiClient

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}


def unique(prefix: str = "img") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def image_call(client: ApiClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.http.request(method, f"/image/v2{path}", **kwargs)


def glance_fault(response: httpx.Response, status: int) -> str:
    """Assert Glance's fault shape (webob's JSON) with that status; return the message."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"message", "code", "title"}, body
    assert body["code"].startswith(str(status))
    message: str = body["message"]
    return message


def create_image(client: ApiClient, **fields: Any) -> dict[str, Any]:
    body = {"name": unique(), "disk_format": "raw", "container_format": "bare", **fields}
    response = image_call(client, "POST", "/images", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body httpx sends with ``Transfer-Encoding: chunked`` (it has no length)."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def upload(client: ApiClient, image_id: str, data: bytes) -> None:
    response = image_call(client, "PUT", f"/images/{image_id}/file", content=chunked(data), headers=OCTETS)
    assert response.status_code == 204, response.text


def wait_image(client: ApiClient, image_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = image_call(client, "GET", f"/images/{image_id}")
        body: dict[str, Any] = response.json() if response.status_code == 200 else {"status": "gone"}
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"image {image_id} is {body['status']}, wanted {statuses}")
        time.sleep(0.05)


def sparse_sha256(path: Path) -> str:
    """sha256 of a file's bytes, with holes hashed as zeros rather than read (reading them is slow)."""
    digest = hashlib.sha256()
    zeros = bytes(1 << 20)
    with path.open("rb", buffering=0) as stream:
        fd, size, offset = stream.fileno(), os.fstat(stream.fileno()).st_size, 0
        while offset < size:
            data = _seek(fd, offset, os.SEEK_DATA, size)
            for start in range(offset, data, len(zeros)):
                digest.update(zeros[: min(len(zeros), data - start)])
            offset = _seek(fd, data, os.SEEK_HOLE, size) if data < size else size
            digest.update(os.pread(fd, offset - data, data))
    return digest.hexdigest()


def _seek(fd: int, offset: int, whence: int, limit: int) -> int:
    try:
        return min(os.lseek(fd, offset, whence), limit)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        return limit

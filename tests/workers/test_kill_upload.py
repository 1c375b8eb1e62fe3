"""``kill -9`` in the middle of uploads (volumes to images, and image data over HTTP), then a restart:
no volume stays ``uploading``, no image stays ``saving``, and every finished image is whole."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.api.image._helpers import sparse_sha256
from tests.workers.test_kill_restart import Process, _client, _create, _pending_jobs, _wait

GiB = 1024**3




def test_kill_9_mid_upload_then_restart_finishes_or_requeues_everything(
    data_dir: tuple[Path, str], processes: list[Process]
) -> None:
    directory, db_url = data_dir
    first = Process(directory, db_url)
    processes.append(first)
    client = _client(first.url)
    project = client.headers["x-project"]
    volumes = [_create(client, project, f"u{i}", 1) for i in range(2)]
    pool = directory / "pools" / "file"
    for index, volume_id in enumerate(volumes):
        _wait(client, project, volume_id, "available")
        with (pool / f"volume-{volume_id}").open("r+b") as stream:
            stream.seek(index * 100 * 1024**2)
            stream.write(hashlib.sha512(volume_id.encode()).digest() * 1024)
    # Raw images of 1 GiB: digesting each takes seconds, so the kill lands mid-upload.
    images = [_upload(client, project, volume_id) for volume_id in volumes]
    stalled, release, putter = _stalled_put(client)
    time.sleep(0.5)
    first.kill()
    release.set()
    putter.join(10)
    client.close()
    assert _pending_jobs(db_url) > 0, "the kill landed after all work was done: nothing was tested"
    assert "saving" in _image_statuses(db_url).values()

    second = Process(directory, db_url)
    processes.append(second)
    client = _client(second.url)
    _settle(db_url)
    statuses = _image_statuses(db_url)
    for volume_id, image_id in zip(volumes, images, strict=True):
        _wait(client, project, volume_id, "available")
        assert statuses[image_id] == "active"
        image = client.get(f"/image/v2/images/{image_id}").json()
        data = directory / "images" / f"image-{image_id}"
        assert image["size"] == GiB == data.stat().st_size
        assert sparse_sha256(data) == sparse_sha256(pool / f"volume-{volume_id}")
        assert image["checksum"] == _md5(data)
    assert statuses[stalled] == "queued"  # its client is gone: the image waits for another upload
    client.close()
    assert not [p for p in (directory / "images").iterdir() if p.name.startswith(".tmp")]


def _upload(client: httpx.Client, project: str, volume_id: str) -> str:
    body = {"os-volume_upload_image": {"image_name": f"of-{volume_id}", "disk_format": "raw"}}
    response = client.post(f"/volume/v3/{project}/volumes/{volume_id}/action", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["os-volume_upload_image"]["image_id"])


def _stalled_put(client: httpx.Client) -> tuple[str, threading.Event, threading.Thread]:
    """An image whose chunked upload sends a megabyte, then waits until released (by then its server is dead)."""
    image = client.post("/image/v2/images", json={"name": "stalled", "disk_format": "raw", "container_format": "bare"})
    image_id = str(image.json()["id"])
    started, release = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield b"\1" * 1024**2
        started.set()
        release.wait(30)
        yield b"\1"

    def put() -> None:
        try:
            httpx.put(
                f"{client.base_url}/image/v2/images/{image_id}/file", content=body(), timeout=60,
                headers={"X-Auth-Token": client.headers["x-auth-token"], "Content-Type": "application/octet-stream"},
            )  # fmt: skip
        except httpx.TransportError:
            pass  # the server was killed under it

    putter = threading.Thread(target=put, daemon=True)
    putter.start()
    assert started.wait(10)
    return image_id, release, putter


def _image_statuses(db_url: str) -> dict[str, str]:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM images")).all()
    engine.dispose()
    return {str(row[0]): str(row[1]) for row in rows}


def _settle(db_url: str) -> None:
    deadline = time.monotonic() + 90
    while _pending_jobs(db_url) or "saving" in _image_statuses(db_url).values():
        assert time.monotonic() < deadline, _image_statuses(db_url)
        time.sleep(0.2)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as stream:
        while block := stream.read(4 * 1024**2):
            digest.update(block)
    return digest.hexdigest()

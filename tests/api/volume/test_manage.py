"""Managing existing files (admin): ``os-volume-manage``, ``manageable_volumes``, and the round trip with unmanage."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.volume._clients import admin_cinder, scribble, sha256
from tests.api.volume._helpers import create_volume, delete_volume, fault, file_backend, unique
from tests.clients.test_cinderclient import Cinder
from tests.conftest import ADMIN_PASSWORD, ApiClient, RunningServer, logged_in

GiB = 1024**3
MiB = 1024**2


@pytest.fixture(scope="module")
def admin_cc(server: RunningServer) -> Iterator[Cinder]:
    with admin_cinder(server, "3.8") as cinder:
        yield cinder


def _pool_dir(server: RunningServer) -> Path:
    return file_backend(server).volume_path("x").parent


def _host(server: RunningServer) -> str:
    return server.node.pools[0].host


def _query_host(server: RunningServer) -> str:
    return quote(_host(server), safe="@")  # '#' would end the URL's query


def _drop_raw(server: RunningServer, size: int = GiB + MiB) -> Path:
    """A raw file an operator copied into the pool, with data at both ends."""
    path = _pool_dir(server) / f"{unique('dropped')}.img"
    with path.open("wb") as stream:
        stream.truncate(size)
    scribble(path)
    return path


def _drop_qcow2(server: RunningServer, *options: str) -> Path:
    path = _pool_dir(server) / f"{unique('dropped')}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *options, str(path), "1G"], check=True)
    command = ["qemu-io", "-f", "qcow2", "-c", "write -P 0x7e 1M 256k", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return path


def _manage(admin: ApiClient, server: RunningServer, ref: Any, **fields: Any) -> Any:
    body = {"volume": {"host": _host(server), "ref": ref, **fields}}
    return admin.volume("POST", "/os-volume-manage", json=body)


def _managed(admin: ApiClient, server: RunningServer, name: str, **fields: Any) -> dict[str, Any]:
    response = _manage(admin, server, {"source-name": name}, **fields)
    assert response.status_code == 202, response.text
    assert response.json()["volume"]["status"] == "creating"  # managing, as Cinder shows it
    volume: dict[str, Any] = admin.wait_volume(response.json()["volume"]["id"], "available", "error")
    return volume


def _listing(admin: ApiClient, query: str, version: str = "3.8") -> list[dict[str, Any]]:
    response = admin.volume("GET", f"/manageable_volumes/detail?{query}", version)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["manageable-volumes"]
    return found


def _entry(admin: ApiClient, server: RunningServer, name: str) -> dict[str, Any]:
    return next(e for e in _listing(admin, f"host={_query_host(server)}") if e["reference"] == {"source-name": name})


def _volumes_of(admin: ApiClient) -> set[str]:
    return {v["id"] for v in admin.volume("GET", "/volumes?all_tenants=1").json()["volumes"]}


def test_unmanage_then_manage_round_trips_a_volume_through_cinderclient(
    server: RunningServer, admin: ApiClient, admin_cc: Cinder
) -> None:
    original = create_volume(admin, size=2)
    path = file_backend(server).volume_path(original["id"])
    scribble(path)
    digest = sha256(path)

    admin_cc.client.volumes.unmanage(original["id"])
    admin_cc.wait_gone(admin_cc.client.volumes, original["id"])
    name = f"volume-{original['id']}"
    listed = {v.reference["source-name"]: v for v in admin_cc.client.volumes.list_manageable(_host(server))}
    assert (listed[name].size, listed[name].safe_to_manage, listed[name].cinder_id) == (2, True, None)

    managed = admin_cc.client.volumes.manage(_host(server), {"source-name": name}, name="adopted", bootable=True)
    volume = admin_cc.wait(admin_cc.client.volumes, managed.id, "available")

    assert managed.id != original["id"]
    assert (volume.size, volume.name, volume.bootable, volume.volume_type) == (2, "adopted", "true", "__DEFAULT__")
    assert getattr(volume, "os-vol-host-attr:host") == _host(server)
    new_path = file_backend(server).volume_path(managed.id)
    assert sha256(new_path) == digest and not path.exists()
    again = _entry(admin, server, f"volume-{managed.id}")
    assert (again["safe_to_manage"], again["reason_not_safe"], again["cinder_id"]) == (
        False,
        "already managed",
        managed.id,
    )
    assert _entry(admin, server, f"volume-{managed.id}")["extra_info"]["format"] == "raw"
    delete_volume(admin, managed.id)


def test_dropped_raw_and_qcow2_files_are_listed_and_managed_with_their_sizes(
    server: RunningServer, admin: ApiClient
) -> None:
    raw, qcow2 = _drop_raw(server), _drop_qcow2(server)
    raw_digest = sha256(raw)

    shown = {name: _entry(admin, server, name) for name in (raw.name, qcow2.name)}
    assert shown[raw.name]["size"] == 2 and shown[raw.name]["safe_to_manage"] is True
    assert shown[raw.name]["extra_info"]["format"] == "raw"
    assert (shown[qcow2.name]["size"], shown[qcow2.name]["extra_info"]["format"]) == (1, "qcow2")

    from_raw = _managed(admin, server, raw.name, metadata={"origin": "ops"})
    from_qcow2 = _managed(admin, server, qcow2.name)

    assert (from_raw["status"], from_raw["size"], from_raw["metadata"]) == ("available", 2, {"origin": "ops"})
    adopted = file_backend(server).volume_path(from_raw["id"])
    assert adopted.stat().st_size == 2 * GiB  # grown to whole GiB
    assert sha256_prefix(adopted, GiB + MiB) == raw_digest and not raw.exists()
    assert (from_qcow2["status"], from_qcow2["size"]) == ("available", 1)
    read = [
        "qemu-io",
        "-f",
        "qcow2",
        "-c",
        "read -P 0x7e 1M 256k",
        str(file_backend(server).volume_path(from_qcow2["id"])),
    ]
    assert "read 262144/262144" in subprocess.run(read, check=True, capture_output=True, text=True).stdout
    for volume in (from_raw, from_qcow2):
        delete_volume(admin, volume["id"])


def sha256_prefix(path: Path, length: int) -> str:
    """The digest of a file's first ``length`` bytes (what it held before it grew)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        left = length
        while left and (chunk := stream.read(min(left, 1 << 20))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _outside_link(server: RunningServer, tmp_path: Path) -> str:
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"root:x:0:0" * 100)
    name = unique("link")
    (_pool_dir(server) / name).symlink_to(secret)
    return name


def _fifo(server: RunningServer, tmp_path: Path) -> str:
    name = unique("fifo")
    os.mkfifo(_pool_dir(server) / name)
    return name


def _device(server: RunningServer, tmp_path: Path) -> str:
    name = unique("dev")
    (_pool_dir(server) / name).symlink_to("/dev/zero")
    return name


def _backed_qcow2(server: RunningServer, tmp_path: Path) -> str:
    base = tmp_path / "base.raw"
    base.write_bytes(b"\0" * MiB)
    return _drop_qcow2(server, "-b", str(base), "-F", "raw").name


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s, t: "/etc/passwd", "is not the name of a file in the pool"),
        (lambda s, t: "../firebrick.sqlite", "is not the name of a file in the pool"),
        (lambda s, t: ".formats", "is not the name of a file in the pool"),
        (lambda s, t: "no-such-file", "does not exist in the pool"),
        (_outside_link, "is a symbolic link"),
        (_device, "is a symbolic link"),
        (_fifo, "is not a regular file"),
        (_backed_qcow2, "names another file"),
    ],
)
def test_unsafe_references_are_refused_with_nothing_changed(
    server: RunningServer, admin: ApiClient, tmp_path: Path, make: Callable[..., str], reason: str
) -> None:
    name = make(server, tmp_path)
    pool = _pool_dir(server)
    before, volumes = sorted(os.listdir(pool)), _volumes_of(admin)

    message = fault(_manage(admin, server, {"source-name": name}), 400)

    assert message.startswith("Manage existing volume failed due to invalid backend reference")
    assert reason in message
    assert str(pool) not in message  # where the pool lives is not the caller's business
    assert sorted(os.listdir(pool)) == before and _volumes_of(admin) == volumes


def test_a_file_that_is_already_a_volume_is_refused(server: RunningServer, admin: ApiClient) -> None:
    volume = create_volume(admin)
    for ref in ({"source-name": f"volume-{volume['id']}"}, {"source-id": volume["id"]}):
        assert (
            fault(_manage(admin, server, ref), 400) == "Unable to manage existing volume. The volume is already managed"
        )
    assert admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    delete_volume(admin, volume["id"])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "nowhere@file#pool"}, "Host 'nowhere@file#pool' not found."),
        ({"host": None}, "Host field is missing."),
        ({"volume_type": "no-such-type"}, "Cannot find requested 'no-such-type' volume type"),
        ({"availability_zone": "elsewhere"}, "Availability zone 'elsewhere' is invalid."),
    ],
)
def test_bad_requests_are_400_and_create_nothing(
    server: RunningServer, admin: ApiClient, fields: dict[str, Any], message: str
) -> None:
    dropped = _drop_raw(server)
    volumes = _volumes_of(admin)
    body = {"volume": {"host": _host(server), "ref": {"source-name": dropped.name}, **fields}}
    assert fault(admin.volume("POST", "/os-volume-manage", json=body), 400) == message
    assert _volumes_of(admin) == volumes and dropped.is_file()
    dropped.unlink()


@pytest.mark.parametrize(
    "body",
    [
        {"volume": {"host": "h"}},  # no ref
        {"volume": {"host": "h", "ref": {"source-name": "a", "source-id": "b"}}},
        {"volume": {"host": "h", "ref": {"lun": 3}}},
        {"volume": {"host": "h", "ref": {"source-name": "a"}, "colour": "red"}},
        {"volume": {"host": "h", "ref": {"source-name": "a"}, "cluster": "c"}},  # cluster before 3.16
    ],
)
def test_malformed_bodies_are_400(admin: ApiClient, body: dict[str, Any]) -> None:
    fault(admin.volume("POST", "/os-volume-manage", json=body), 400)


def test_host_and_cluster_from_3_16(server: RunningServer, admin: ApiClient) -> None:
    ref = {"source-name": "x"}
    both = {"volume": {"host": _host(server), "cluster": "c", "ref": ref}}
    assert fault(admin.volume("POST", "/manageable_volumes", "3.16", json=both), 400) == (
        "One and only one of cluster and host must be set."
    )
    cluster = {"volume": {"cluster": "c", "ref": ref}}
    assert fault(admin.volume("POST", "/manageable_volumes", "3.16", json=cluster), 400) == "Cluster 'c' not found."


def test_a_disabled_backend_is_unavailable(server: RunningServer, admin: ApiClient) -> None:
    backend = _host(server).partition("#")[0]
    dropped = _drop_raw(server)
    disable = {"host": backend, "binary": "cinder-volume"}
    assert admin.volume("PUT", "/os-services/disable", json=disable).status_code == 200
    try:
        message = fault(_manage(admin, server, {"source-name": dropped.name}), 400)
    finally:
        admin.volume("PUT", "/os-services/enable", json=disable)
    assert message == "Service is unavailable at this time."
    dropped.unlink()


def test_a_type_for_another_backend_is_refused(server: RunningServer, admin: ApiClient) -> None:
    name = unique("type")
    created = admin.volume("POST", "/types", json={"volume_type": {"name": name}}).json()["volume_type"]
    specs = {"extra_specs": {"volume_backend_name": "elsewhere"}}
    admin.volume("POST", f"/types/{created['id']}/extra_specs", json=specs)
    dropped = _drop_raw(server)
    message = fault(_manage(admin, server, {"source-name": dropped.name}, volume_type=name), 400)
    assert "places volumes on backend 'elsewhere'" in message
    admin.volume("DELETE", f"/types/{created['id']}")
    dropped.unlink()


def test_members_may_neither_manage_nor_list(server: RunningServer, demo: ApiClient) -> None:
    dropped = _drop_raw(server)
    fault(_manage(demo, server, {"source-name": dropped.name}), 403)
    fault(demo.volume("GET", f"/manageable_volumes?host={_query_host(server)}", "3.8"), 403)
    fault(demo.volume("GET", f"/os-volume-manage/detail?host={_query_host(server)}"), 403)
    assert dropped.is_file()
    dropped.unlink()


def test_a_file_over_the_gigabytes_quota_ends_in_error_managing_untouched(
    server: RunningServer, admin: ApiClient
) -> None:
    dropped = _drop_raw(server, 5 * GiB)
    digest = sha256(dropped)
    project = admin.project_id
    admin.volume("PUT", f"/os-quota-sets/{project}", json={"quota_set": {"per_volume_gigabytes": 4}})
    try:
        response = _manage(admin, server, {"source-name": dropped.name})
        assert response.status_code == 202
        volume = admin.wait_volume(response.json()["volume"]["id"], "available", "error")
    finally:
        admin.volume("PUT", f"/os-quota-sets/{project}", json={"quota_set": {"per_volume_gigabytes": -1}})
    assert volume["status"] == "error"  # error_managing, as Cinder shows it
    messages = admin.volume("GET", f"/messages?resource_uuid={volume['id']}", "3.3").json()["messages"]
    assert ["manage existing volume: Requested volume size 5G is larger than maximum allowed limit 4G."] == [
        m["user_message"] for m in messages
    ]
    assert sha256(dropped) == digest and not file_backend(server).volume_path(volume["id"]).exists()
    delete_volume(admin, volume["id"])  # an error_managing volume may be deleted; the file stays
    admin.wait_gone(f"/volumes/{volume['id']}")
    assert sha256(dropped) == digest
    dropped.unlink()


def test_manageable_listing_sorts_and_pages(server_factory: Callable[..., RunningServer]) -> None:
    private = server_factory()
    with logged_in(private, "admin", ADMIN_PASSWORD, "admin") as admin:
        pool = _pool_dir(private)
        for name, size in (("a.img", 3), ("b.img", 1), ("c.img", 2)):
            with (pool / name).open("wb") as stream:
                stream.truncate(size * GiB)
        host = _query_host(private)

        def names(query: str, version: str = "3.8") -> list[str]:
            return [e["reference"]["source-name"] for e in _listing(admin, f"host={host}&{query}", version)]

        assert names("") == ["a.img", "b.img", "c.img"]
        assert names("sort=size:desc") == ["a.img", "c.img", "b.img"]
        assert names("sort_key=reference&sort_dir=desc") == ["c.img", "b.img", "a.img"]
        assert names("limit=2") == ["a.img", "b.img"]
        assert names("limit=1&offset=1") == ["b.img"]
        assert names('marker={"source-name": "a.img"}') == ["b.img", "c.img"]
        assert names("marker=b.img&limit=5") == ["c.img"]
        backend = _host(private).partition("#")[0]
        by_backend = _listing(admin, f"host={backend}")
        assert [e["reference"]["source-name"] for e in by_backend] == names("")
        legacy = admin.volume("GET", f"/os-volume-manage/detail?host={host}").json()["manageable-volumes"]
        assert legacy == _listing(admin, f"host={host}")
        summary = admin.volume("GET", f"/os-volume-manage?host={host}").json()["manageable-volumes"]
        assert summary[0] == {"reference": {"source-name": "a.img"}, "size": 3, "safe_to_manage": True}

        fault(admin.volume("GET", f"/manageable_volumes?host={host}&sort=colour", "3.8"), 400)
        fault(admin.volume("GET", f"/manageable_volumes?host={host}&marker=zzz", "3.8"), 400)
        fault(admin.volume("GET", "/manageable_volumes", "3.8"), 400)
        fault(admin.volume("GET", "/manageable_volumes?host=nowhere@x", "3.8"), 404)
        fault(admin.volume("GET", f"/manageable_volumes?host={host}", "3.7"), 404)
        message = fault(admin.volume("GET", f"/manageable_volumes?host={host}&cluster=c", "3.17"), 400)
        assert message == "One and only one of cluster and host must be set."

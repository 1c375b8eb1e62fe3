"""Our answers against real Cinder 29 answers (research/cinder-samples/*.json).

The expected shapes below were transcribed from the recorded samples (the file
number is named at each one): the exact key set, and for each key the JSON type
of its value (``None`` where Cinder answered null). Requests are made to match
the recorded ones (a description, metadata, an admin caller) so that the types
line up; the member views are the admin ones minus the admin-only keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.volume._helpers import MISSING_ID, create_volume, delete_volume, unique
from tests.conftest import ApiClient, RunningServer

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?$")
HOST = re.compile(r"^.+@.+#.+$")

# 12_volume_create.json (admin caller)
VOLUME_CREATE: dict[str, Any] = {
    "id": str,
    "status": str,
    "size": int,
    "availability_zone": str,
    "created_at": str,
    "updated_at": None,
    "name": str,
    "description": str,
    "volume_type": str,
    "snapshot_id": None,
    "source_volid": None,
    "metadata": dict,
    "links": list,
    "user_id": str,
    "bootable": str,
    "encrypted": bool,
    "replication_status": None,
    "consistencygroup_id": None,
    "multiattach": bool,
    "attachments": list,
    "migration_status": None,
}
# 14_volume_show_mv30.json (admin caller)
VOLUME_SHOW_30: dict[str, Any] = {
    **VOLUME_CREATE,
    "updated_at": str,
    "os-vol-tenant-attr:tenant_id": str,
    "os-vol-mig-status-attr:migstat": None,
    "os-vol-mig-status-attr:name_id": None,
    "os-vol-host-attr:host": str,
}
# 15_volume_show_mv3_latest.json (admin caller)
VOLUME_SHOW_LATEST: dict[str, Any] = {
    **VOLUME_SHOW_30,
    "group_id": None,
    "provider_id": None,
    "shared_targets": bool,
    "service_uuid": str,
    "cluster_name": None,
    "volume_type_id": str,
    "consumes_quota": bool,
}
# 67_volumes_detail_with_count_mv3_45.json (admin caller)
VOLUME_DETAIL_345: dict[str, Any] = {**VOLUME_SHOW_30, "group_id": None, "provider_id": None}
ADMIN_ONLY = {
    "migration_status",
    "os-vol-mig-status-attr:migstat",
    "os-vol-mig-status-attr:name_id",
    "os-vol-host-attr:host",
    "provider_id",
    "cluster_name",
}
# 06_type_create.json, 08_type_show.json, 11_type_default.json (admin caller)
TYPE_CREATE: dict[str, Any] = {
    "id": str,
    "name": str,
    "is_public": bool,
    "extra_specs": dict,
    "description": str,
    "os-volume-type-access:is_public": bool,
}
TYPE_SHOW: dict[str, Any] = {**TYPE_CREATE, "qos_specs_id": None}
TYPE_DEFAULT: dict[str, Any] = {
    "id": str,
    "name": str,
    "is_public": bool,
    "description": str,
    "extra_specs": dict,
    "qos_specs_id": None,
}
# 51_limits.json
LIMITS_ABSOLUTE: dict[str, Any] = {
    k: int
    for k in (
        "maxTotalVolumes",
        "maxTotalSnapshots",
        "maxTotalVolumeGigabytes",
        "maxTotalBackups",
        "maxTotalBackupGigabytes",
        "totalVolumesUsed",
        "totalGigabytesUsed",
        "totalSnapshotsUsed",
        "totalBackupsUsed",
        "totalBackupGigabytesUsed",
    )
}
# 52_quota_set_show.json (plus the per-type keys of every type that exists)
QUOTA_KEYS = {
    "volumes",
    "per_volume_gigabytes",
    "snapshots",
    "gigabytes",
    "backups",
    "backup_gigabytes",
    "groups",
    "volumes___DEFAULT__",
    "gigabytes___DEFAULT__",
    "snapshots___DEFAULT__",
}
# 53_services_list.json
SCHEDULER_SERVICE: dict[str, Any] = {
    "binary": str,
    "host": str,
    "zone": str,
    "status": str,
    "state": str,
    "updated_at": str,
    "disabled_reason": None,
}
VOLUME_SERVICE: dict[str, Any] = {
    **SCHEDULER_SERVICE,
    "replication_status": str,
    "active_backend_id": None,
    "frozen": bool,
}
# 54_pools_detail.json: the capabilities every driver reports (the fake driver adds its own)
POOL_CAPABILITIES = {
    "pool_name",
    "total_capacity_gb",
    "free_capacity_gb",
    "reserved_percentage",
    "QoS_support",
    "volume_backend_name",
    "storage_protocol",
    "vendor_name",
    "driver_version",
    "timestamp",
}


def assert_shape(ours: dict[str, Any], expected: dict[str, Any]) -> None:
    extra, missing = sorted(set(ours) - set(expected)), sorted(set(expected) - set(ours))
    assert not extra and not missing, f"extra keys {extra}, missing keys {missing}"
    for key, kind in expected.items():
        if kind is None:
            assert ours[key] is None, (key, ours[key])
        else:
            assert type(ours[key]) is kind, (key, ours[key])


def member_view(shape: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shape.items() if k not in ADMIN_ONLY}


def links_of(server: RunningServer, project: str | None, volume_id: str) -> list[dict[str, str]]:
    prefix = f"/{project}" if project else ""
    return [
        {"rel": "self", "href": f"{server.url}/volume/v3{prefix}/volumes/{volume_id}"},
        {"rel": "bookmark", "href": f"{server.url}/volume{prefix}/volumes/{volume_id}"},
    ]


@pytest.fixture(scope="module")
def admin_volume(admin: ApiClient) -> Iterator[dict[str, Any]]:
    volume = create_volume(admin, name=unique("anchor"), description="first", metadata={"k1": "v1"})
    yield volume
    delete_volume(admin, volume["id"])


@pytest.fixture(scope="module")
def demo_volume(demo: ApiClient) -> Iterator[dict[str, Any]]:
    volume = create_volume(demo, name=unique("anchor"), description="first", metadata={"k1": "v1"})
    yield volume
    delete_volume(demo, volume["id"])


# --- volumes -------------------------------------------------------------------------------------


def test_create_answer_matches_sample_12(admin: ApiClient) -> None:
    body = {"volume": {"size": 1, "name": unique("anchor"), "description": "first", "metadata": {"k1": "v1"}}}
    response = admin.volume("POST", "/volumes", json=body)
    assert response.status_code == 202
    volume = response.json()["volume"]
    assert_shape(volume, VOLUME_CREATE)  # no os-vol-* keys in a create answer
    assert volume["status"] == "creating"
    assert volume["bootable"] == "false"
    assert TIMESTAMP.match(volume["created_at"]), volume["created_at"]
    admin.wait_volume(volume["id"], "available")
    delete_volume(admin, volume["id"])


def test_member_create_answer_has_no_admin_keys(demo: ApiClient) -> None:
    response = demo.volume(
        "POST", "/volumes", json={"volume": {"size": 1, "name": unique(), "description": "d", "metadata": {"a": "b"}}}
    )
    assert response.status_code == 202
    assert_shape(response.json()["volume"], member_view(VOLUME_CREATE))
    demo.wait_volume(response.json()["volume"]["id"], "available")
    delete_volume(demo, response.json()["volume"]["id"])


def test_admin_show_at_3_0_matches_sample_14(
    server: RunningServer, admin: ApiClient, admin_volume: dict[str, Any]
) -> None:
    response = admin.volume("GET", f"/volumes/{admin_volume['id']}")
    assert response.status_code == 200
    volume = response.json()["volume"]
    assert_shape(volume, VOLUME_SHOW_30)
    assert HOST.match(volume["os-vol-host-attr:host"]), volume["os-vol-host-attr:host"]
    assert volume["os-vol-tenant-attr:tenant_id"] == admin.project_id
    assert volume["links"] == links_of(server, admin.project_id, volume["id"])
    assert volume["volume_type"] == "__DEFAULT__"
    assert volume["metadata"] == {"k1": "v1"}
    assert TIMESTAMP.match(volume["updated_at"]), volume["updated_at"]


def test_admin_show_at_latest_matches_sample_15(admin: ApiClient, admin_volume: dict[str, Any]) -> None:
    response = admin.volume("GET", f"/volumes/{admin_volume['id']}", version="latest")
    assert response.status_code == 200
    volume = response.json()["volume"]
    assert_shape(volume, VOLUME_SHOW_LATEST)
    assert HOST.match(volume["os-vol-host-attr:host"])
    assert volume["consumes_quota"] is True
    assert volume["shared_targets"] is False


def test_show_without_project_in_url_matches_sample_17(
    server: RunningServer, admin: ApiClient, admin_volume: dict[str, Any]
) -> None:
    response = admin.http.get(
        f"/volume/v3/volumes/{admin_volume['id']}", headers={"OpenStack-API-Version": "volume 3.67"}
    )
    assert response.status_code == 200
    volume = response.json()["volume"]
    assert_shape(volume, VOLUME_SHOW_LATEST)
    assert volume["links"] == links_of(server, None, volume["id"])


@pytest.mark.parametrize("version", [None, "latest"])
def test_member_show_hides_host_and_migration_keys(
    demo: ApiClient, demo_volume: dict[str, Any], version: str | None
) -> None:
    response = demo.volume("GET", f"/volumes/{demo_volume['id']}", version=version)
    assert response.status_code == 200
    volume = response.json()["volume"]
    assert_shape(volume, member_view(VOLUME_SHOW_LATEST if version else VOLUME_SHOW_30))
    assert volume["os-vol-tenant-attr:tenant_id"] == demo.project_id


def test_summary_list_items_are_id_name_links_as_sample_18(
    server: RunningServer, demo: ApiClient, demo_volume: dict[str, Any]
) -> None:
    response = demo.volume("GET", "/volumes")
    assert response.status_code == 200
    body = response.json()
    assert set(body) <= {"volumes", "volumes_links"}
    for item in body["volumes"]:
        assert set(item) == {"id", "name", "links"}
    mine = [v for v in body["volumes"] if v["id"] == demo_volume["id"]]
    assert mine == [
        {
            "id": demo_volume["id"],
            "name": demo_volume["name"],
            "links": links_of(server, demo.project_id, demo_volume["id"]),
        }
    ]


def test_detail_items_match_sample_19(admin: ApiClient, admin_volume: dict[str, Any]) -> None:
    response = admin.volume("GET", f"/volumes/detail?name={admin_volume['name']}")
    assert response.status_code == 200
    volumes = response.json()["volumes"]
    assert len(volumes) == 1
    assert_shape(volumes[0], VOLUME_SHOW_30)


def test_detail_with_limit_has_next_link_with_marker_as_sample_20(
    server: RunningServer, demo: ApiClient, demo_volume: dict[str, Any]
) -> None:
    response = demo.volume("GET", "/volumes/detail?limit=1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"volumes", "volumes_links"}
    assert len(body["volumes"]) == 1
    last = body["volumes"][0]["id"]
    assert body["volumes_links"] == [
        {
            "rel": "next",
            "href": f"{server.url}/volume/v3/{demo.project_id}/volumes/detail?limit=1&marker={last}",
        }
    ]


def test_detail_at_latest_matches_sample_21(admin: ApiClient, admin_volume: dict[str, Any]) -> None:
    response = admin.volume("GET", f"/volumes/detail?name={admin_volume['name']}", version="latest")
    (volume,) = response.json()["volumes"]
    assert_shape(volume, VOLUME_SHOW_LATEST)


def test_detail_with_count_at_3_45_matches_sample_67(
    server: RunningServer, admin: ApiClient, admin_volume: dict[str, Any]
) -> None:
    response = admin.volume("GET", "/volumes/detail?limit=1&with_count=true", version="3.45")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"volumes", "volumes_links", "count"}
    assert type(body["count"]) is int and body["count"] >= 1
    assert_shape(body["volumes"][0], VOLUME_DETAIL_345)
    marker = body["volumes"][0]["id"]
    assert body["volumes_links"][0]["href"] == (
        f"{server.url}/volume/v3/{admin.project_id}/volumes/detail?limit=1&with_count=true&marker={marker}"
    )


def test_with_count_is_ignored_before_3_45(admin: ApiClient, admin_volume: dict[str, Any]) -> None:
    body = admin.volume("GET", "/volumes/detail?with_count=true", version="3.44").json()
    assert "count" not in body


def test_summary_at_3_12_matches_sample_22(demo: ApiClient, demo_volume: dict[str, Any]) -> None:
    response = demo.volume("GET", "/volumes/summary", version="3.12")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["volume-summary"]
    assert set(body["volume-summary"]) == {"total_count", "total_size"}
    assert type(body["volume-summary"]["total_count"]) is int and body["volume-summary"]["total_count"] >= 1
    assert type(body["volume-summary"]["total_size"]) is int and body["volume-summary"]["total_size"] >= 1


def test_show_missing_is_sample_23(demo: ApiClient) -> None:
    response = demo.volume("GET", f"/volumes/{MISSING_ID}")
    assert response.status_code == 404
    assert response.json() == {"itemNotFound": {"code": 404, "message": f"Volume {MISSING_ID} could not be found."}}


def test_create_size_zero_is_sample_24(demo: ApiClient) -> None:
    response = demo.volume("POST", "/volumes", json={"volume": {"size": 0}})
    assert response.status_code == 400
    assert response.json() == {
        "badRequest": {
            "code": 400,
            "message": "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1",
        }
    }


def test_create_without_volume_key_is_sample_25(demo: ApiClient) -> None:
    response = demo.volume("POST", "/volumes", json={"vol": {"size": 1}})
    assert response.status_code == 400
    assert response.json() == {"badRequest": {"code": 400, "message": "'volume' is a required property"}}


def test_update_answer_matches_sample_26(admin: ApiClient, admin_volume: dict[str, Any]) -> None:
    response = admin.volume("PUT", f"/volumes/{admin_volume['id']}", json={"volume": {"name": admin_volume["name"]}})
    assert response.status_code == 200
    assert_shape(response.json()["volume"], {**VOLUME_CREATE, "updated_at": str})


def test_metadata_get_and_post_match_samples_27_28(demo: ApiClient, demo_volume: dict[str, Any]) -> None:
    path = f"/volumes/{demo_volume['id']}/metadata"
    assert demo.volume("GET", path).json() == {"metadata": {"k1": "v1"}}
    response = demo.volume("POST", path, json={"metadata": {"k2": "v2"}})
    assert response.status_code == 200
    assert response.json() == {"metadata": {"k1": "v1", "k2": "v2"}}
    demo.volume("PUT", path, json={"metadata": {"k1": "v1"}})


def test_delete_is_202_without_body_as_sample_49(demo: ApiClient) -> None:
    volume = create_volume(demo)
    response = demo.volume("DELETE", f"/volumes/{volume['id']}")
    assert response.status_code == 202
    assert response.content == b""
    demo.wait_gone(f"/volumes/{volume['id']}")


# --- types ---------------------------------------------------------------------------------------


def test_type_create_show_list_and_delete_match_samples_06_to_10_and_50(admin: ApiClient) -> None:
    name = unique("anchor-type")
    body = {
        "volume_type": {"name": name, "description": "anchor test type", "extra_specs": {"volume_backend_name": "fake"}}
    }
    created = admin.volume("POST", "/types", json=body)
    assert created.status_code == 200
    volume_type = created.json()["volume_type"]
    assert_shape(volume_type, TYPE_CREATE)  # 06: no qos_specs_id in a create answer
    assert volume_type["extra_specs"] == {"volume_backend_name": "fake"}

    duplicate = admin.volume("POST", "/types", json={"volume_type": {"name": name}})
    assert duplicate.status_code == 409  # 07
    assert duplicate.json() == {"conflictingRequest": {"code": 409, "message": f"Volume Type {name} already exists."}}

    shown = admin.volume("GET", f"/types/{volume_type['id']}")
    assert shown.status_code == 200
    assert_shape(shown.json()["volume_type"], TYPE_SHOW)  # 08

    listed = admin.volume("GET", "/types").json()["volume_types"]  # 09
    mine = [t for t in listed if t["id"] == volume_type["id"]]
    assert len(mine) == 1
    for item in listed:
        assert set(item) == set(TYPE_SHOW)
    assert_shape(mine[0], TYPE_SHOW)

    specs = admin.volume("GET", f"/types/{volume_type['id']}/extra_specs")  # 10
    assert specs.json() == {"extra_specs": {"volume_backend_name": "fake"}}

    deleted = admin.volume("DELETE", f"/types/{volume_type['id']}")  # 50
    assert deleted.status_code == 202
    assert deleted.content == b""


def test_default_type_matches_sample_11(admin: ApiClient) -> None:
    response = admin.volume("GET", "/types/default")
    assert response.status_code == 200
    volume_type = response.json()["volume_type"]
    assert_shape(volume_type, TYPE_DEFAULT)
    assert volume_type["name"] == "__DEFAULT__"
    assert volume_type["description"] == "Default Volume Type"


# --- limits, quotas, services, pools ------------------------------------------------------------


def test_limits_match_sample_51(demo: ApiClient) -> None:
    response = demo.volume("GET", "/limits")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["limits"]
    assert body["limits"]["rate"] == []
    assert_shape(body["limits"]["absolute"], LIMITS_ABSOLUTE)


def test_quota_set_with_usage_matches_sample_52(demo: ApiClient) -> None:
    response = demo.volume("GET", f"/os-quota-sets/{demo.project_id}?usage=True")
    assert response.status_code == 200
    quota_set = response.json()["quota_set"]
    assert quota_set.pop("id") == demo.project_id
    assert QUOTA_KEYS <= set(quota_set)
    for key, value in quota_set.items():
        assert key in QUOTA_KEYS or re.match(r"^(volumes|gigabytes|snapshots)_.+$", key), key
        assert set(value) == {"limit", "in_use", "reserved"}, key
        assert all(type(v) is int for v in value.values()), key


def test_services_list_matches_sample_53(admin: ApiClient) -> None:
    response = admin.volume("GET", "/os-services")
    assert response.status_code == 200
    services = response.json()["services"]
    binaries = sorted(s["binary"] for s in services)
    assert binaries == ["cinder-scheduler", "cinder-volume"]
    for service in services:
        assert_shape(service, VOLUME_SERVICE if service["binary"] == "cinder-volume" else SCHEDULER_SERVICE)
        assert service["status"] == "enabled" and service["state"] == "up"
        assert TIMESTAMP.match(service["updated_at"])
    volume_service = next(s for s in services if s["binary"] == "cinder-volume")
    assert re.match(r"^[^@#]+@[^@#]+$", volume_service["host"])


def test_pools_detail_has_the_capabilities_of_sample_54(admin: ApiClient) -> None:
    response = admin.volume("GET", "/scheduler-stats/get_pools?detail=True")
    assert response.status_code == 200
    pools = response.json()["pools"]
    assert len(pools) == 1
    assert set(pools[0]) == {"name", "capabilities"}
    assert HOST.match(pools[0]["name"])
    assert POOL_CAPABILITIES <= set(pools[0]["capabilities"])
    assert pools[0]["capabilities"]["pool_name"] == pools[0]["name"].split("#")[1]

"""``/os-services``, ``/os-availability-zone`` and ``/scheduler-stats/get_pools``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firebrick.config import BackendSettings
from tests.api.volume._helpers import create_volume, fault, file_backend
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, api_client

BASE_KEYS = {"binary", "host", "zone", "status", "state", "updated_at", "disabled_reason"}
VOLUME_EXTRA = {"replication_status", "active_backend_id", "frozen"}


@pytest.fixture
def private(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> Iterator[tuple[RunningServer, ApiClient, ApiClient]]:
    """A server of our own (so disabling services disturbs no other test), with admin and demo clients."""
    running = server_factory(
        backends=(
            BackendSettings("first", "p1", tmp_path / "first", 4, "raw"),
            BackendSettings("second", "p2", tmp_path / "second", 2, "raw"),
        )
    )
    admin = api_client(running, "admin", ADMIN_PASSWORD, "admin")
    demo = api_client(running, "demo", DEMO_PASSWORD, "demo")
    yield running, admin, demo
    admin.http.close()
    demo.http.close()


def services(client: ApiClient, query: str = "", version: str | None = None) -> list[dict[str, Any]]:
    response = client.volume("GET", f"/os-services{query}", version=version)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["services"]
    return found


# --- os-services ---------------------------------------------------------------------------------


def test_admin_lists_scheduler_and_volume_services(server: RunningServer, admin: ApiClient) -> None:
    found = {s["binary"]: s for s in services(admin)}
    assert set(found) == {"cinder-scheduler", "cinder-volume"}
    hostname = server.settings.node_name
    assert found["cinder-scheduler"]["host"] == hostname
    assert found["cinder-volume"]["host"] == f"{hostname}@file"
    assert set(found["cinder-scheduler"]) == BASE_KEYS
    assert set(found["cinder-volume"]) == BASE_KEYS | VOLUME_EXTRA
    for service in found.values():
        assert (service["zone"], service["status"], service["state"], service["disabled_reason"]) == (
            "nova",
            "enabled",
            "up",
            None,
        )
    assert (found["cinder-volume"]["replication_status"], found["cinder-volume"]["frozen"]) == ("disabled", False)


@pytest.mark.parametrize("client_name", ["demo", "reader"])
def test_non_admin_cannot_list_services(request: pytest.FixtureRequest, client_name: str) -> None:
    client: ApiClient = request.getfixturevalue(client_name)
    assert (
        fault(client.volume("GET", "/os-services"), 403)
        == "Policy doesn't allow volume_extension:services:index to be performed."
    )


def test_services_filter_by_binary_and_host(server: RunningServer, admin: ApiClient) -> None:
    assert [s["binary"] for s in services(admin, "?binary=cinder-volume")] == ["cinder-volume"]
    # As Cinder (and tempest) have it, a host names itself and its backends "host@backend".
    on_host = services(admin, f"?host={server.settings.node_name}")
    assert sorted(s["binary"] for s in on_host) == ["cinder-scheduler", "cinder-volume"]
    backend = services(admin, f"?host={server.settings.node_name}@file")
    assert [s["binary"] for s in backend] == ["cinder-volume"]
    assert services(admin, "?host=nowhere") == []
    assert services(admin, f"?host={server.settings.node_name[:-1]}") == []  # no prefix matches


def test_service_fields_follow_the_microversion(admin: ApiClient) -> None:
    at_3_7 = {s["binary"]: s for s in services(admin, version="3.7")}
    assert set(at_3_7["cinder-scheduler"]) == BASE_KEYS | {"cluster"}
    assert at_3_7["cinder-scheduler"]["cluster"] is None
    at_3_49 = {s["binary"]: s for s in services(admin, version="3.49")}
    assert set(at_3_49["cinder-volume"]) == BASE_KEYS | VOLUME_EXTRA | {"cluster", "backend_state"}
    assert at_3_49["cinder-volume"]["backend_state"] == "up"
    assert "backend_state" not in at_3_49["cinder-scheduler"]


def test_disable_and_enable_a_volume_service(private: tuple[RunningServer, ApiClient, ApiClient]) -> None:
    running, admin, demo = private
    host = f"{running.settings.node_name}@first"
    disabled = admin.volume("PUT", "/os-services/disable", json={"host": host, "binary": "cinder-volume"})
    assert disabled.status_code == 200
    assert disabled.json() == {
        "host": host,
        "binary": "cinder-volume",
        "service": "cinder-volume",
        "disabled": True,
        "status": "disabled",
    }
    shown = {s["host"]: s for s in services(admin, "?binary=cinder-volume")}
    assert shown[host]["status"] == "disabled"
    assert shown[f"{running.settings.node_name}@second"]["status"] == "enabled"

    enabled = admin.volume("PUT", "/os-services/enable", json={"host": host, "binary": "cinder-volume"})
    assert enabled.status_code == 200
    assert enabled.json()["disabled"] is False and enabled.json()["status"] == "enabled"
    assert {s["host"]: s for s in services(admin)}[host]["status"] == "enabled"


def test_disable_with_a_reason(private: tuple[RunningServer, ApiClient, ApiClient]) -> None:
    running, admin, _ = private
    host = f"{running.settings.node_name}@second"
    body = {"host": host, "binary": "cinder-volume", "disabled_reason": "maintenance window"}
    response = admin.volume("PUT", "/os-services/disable-log-reason", json=body)
    assert response.status_code == 200
    assert response.json()["disabled_reason"] == "maintenance window"
    shown = {s["host"]: s for s in services(admin)}[host]
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "maintenance window")
    fault(admin.volume("PUT", "/os-services/disable-log-reason", json={"host": host}), 400)


def test_service_update_refusals(private: tuple[RunningServer, ApiClient, ApiClient]) -> None:
    running, admin, demo = private
    host = f"{running.settings.node_name}@first"
    assert fault(demo.volume("PUT", "/os-services/disable", json={"host": host}), 403) == (
        "Policy doesn't allow volume_extension:services:update to be performed."
    )
    fault(admin.volume("PUT", "/os-services/disable", json={"host": "nowhere@x", "binary": "cinder-volume"}), 404)
    fault(admin.volume("PUT", "/os-services/disable", json={"binary": "cinder-volume"}), 400)
    fault(admin.volume("PUT", "/os-services/sideways", json={"host": host}), 404)
    assert all(s["status"] == "enabled" for s in services(admin))


def test_service_is_down_after_service_down_time(server_factory: Callable[..., RunningServer]) -> None:
    running = server_factory(service_down_time=0, heartbeat_interval=3600)
    admin = api_client(running, "admin", ADMIN_PASSWORD, "admin")
    try:
        assert {s["state"] for s in services(admin)} == {"down"}
    finally:
        admin.http.close()


# --- availability zones --------------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["demo", "reader", "admin"])
def test_availability_zones_for_everyone(request: pytest.FixtureRequest, client_name: str) -> None:
    client: ApiClient = request.getfixturevalue(client_name)
    response = client.volume("GET", "/os-availability-zone")
    assert response.status_code == 200
    assert response.json() == {"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}}]}


def test_zone_is_unavailable_only_when_all_its_volume_services_are_disabled(
    private: tuple[RunningServer, ApiClient, ApiClient],
) -> None:
    running, admin, demo = private
    hostname = running.settings.node_name

    def available() -> bool:
        info = demo.volume("GET", "/os-availability-zone").json()["availabilityZoneInfo"]
        assert [z["zoneName"] for z in info] == ["nova"]
        result: bool = info[0]["zoneState"]["available"]
        return result

    admin.volume("PUT", "/os-services/disable", json={"host": f"{hostname}@first", "binary": "cinder-volume"})
    assert available() is True
    admin.volume("PUT", "/os-services/disable", json={"host": f"{hostname}@second", "binary": "cinder-volume"})
    assert available() is False
    admin.volume("PUT", "/os-services/enable", json={"host": f"{hostname}@second", "binary": "cinder-volume"})
    assert available() is True


# --- pools ---------------------------------------------------------------------------------------


def test_pools_list_names_only(server: RunningServer, admin: ApiClient) -> None:
    response = admin.volume("GET", "/scheduler-stats/get_pools")
    assert response.status_code == 200
    assert response.json() == {"pools": [{"name": f"{server.settings.node_name}@file#pool"}]}


def test_pools_are_admin_only(demo: ApiClient) -> None:
    assert fault(demo.volume("GET", "/scheduler-stats/get_pools"), 403) == (
        "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed."
    )


def test_pool_capacity_follows_what_is_provisioned(private: tuple[RunningServer, ApiClient, ApiClient]) -> None:
    running, admin, demo = private

    def capabilities() -> dict[str, dict[str, Any]]:
        response = admin.volume("GET", "/scheduler-stats/get_pools?detail=true")
        assert response.status_code == 200
        return {p["name"].split("@")[1]: p["capabilities"] for p in response.json()["pools"]}

    before = capabilities()
    assert set(before) == {"first#p1", "second#p2"}
    assert (before["first#p1"]["total_capacity_gb"], before["first#p1"]["free_capacity_gb"]) == (4, 4)
    assert (before["first#p1"]["pool_name"], before["first#p1"]["volume_backend_name"]) == ("p1", "first")
    assert before["second#p2"]["total_capacity_gb"] == 2
    volume = create_volume(demo, size=3)  # goes to the pool with the most room
    shown = admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["os-vol-host-attr:host"] == f"{running.settings.node_name}@first#p1"
    after = capabilities()
    assert after["first#p1"]["free_capacity_gb"] == 1
    assert after["second#p2"]["free_capacity_gb"] == 2


def test_volume_backend_name_picks_the_pool(private: tuple[RunningServer, ApiClient, ApiClient]) -> None:
    running, admin, demo = private
    created = admin.volume(
        "POST", "/types", json={"volume_type": {"name": "on-second", "extra_specs": {"volume_backend_name": "second"}}}
    )
    assert created.status_code == 200
    volume = create_volume(demo, size=1, volume_type="on-second")
    shown = admin.volume("GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["os-vol-host-attr:host"] == f"{running.settings.node_name}@second#p2"
    assert file_backend(running, 1).volume_path(volume["id"]).is_file()
    assert not file_backend(running, 0).volume_path(volume["id"]).exists()

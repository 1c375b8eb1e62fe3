"""User messages (3.3+): the reason an asynchronous create failed, as the owner reads it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from firebrick.config import BackendSettings
from firebrick.domain.identity import Account, ensure_account
from tests.api.volume._helpers import fault
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, OTHER_PASSWORD, RunningServer, api_client


def test_a_failed_create_is_told_through_messages(server_factory: Callable[..., RunningServer], tmp_path: Path) -> None:
    small = server_factory(backends=(BackendSettings("small", "pool", tmp_path / "pool", 2, "raw"),))
    ensure_account(small.node.repos.identity, Account("other", "other", OTHER_PASSWORD, ("member",)))
    demo = api_client(small, "demo", DEMO_PASSWORD, "demo")
    other = api_client(small, "other", OTHER_PASSWORD, "other")
    admin = api_client(small, "admin", ADMIN_PASSWORD, "admin")
    try:
        volume_id = demo.volume("POST", "/volumes", json={"volume": {"size": 5}}).json()["volume"]["id"]
        assert demo.wait_volume(volume_id, "available", "error")["status"] == "error"

        listed = demo.volume("GET", "/messages", version="3.3")
        assert listed.status_code == 200 and listed.headers["openstack-api-version"] == "volume 3.3"
        [message] = listed.json()["messages"]
        assert message["resource_uuid"] == volume_id and message["resource_type"] == "VOLUME"
        assert message["message_level"] == "ERROR" and message["event_id"] == "VOLUME_VOLUME_001_001"
        assert message["user_message"].startswith("create volume: insufficient free space in pool")
        assert set(message) == {
            "id", "event_id", "user_message", "message_level", "created_at", "guaranteed_until",
            "request_id", "links", "resource_type", "resource_uuid",
        }  # fmt: skip
        shown = demo.volume("GET", f"/messages/{message['id']}", version="3.3").json()["message"]
        assert shown == message

        assert other.volume("GET", "/messages", version="3.3").json() == {"messages": []}
        fault(other.volume("GET", f"/messages/{message['id']}", version="3.3"), 404)
        assert [m["id"] for m in admin.volume("GET", "/messages", version="3.3").json()["messages"]] == [message["id"]]
        fault(demo.volume("GET", "/messages", version="3.2"), 404)  # the API starts at 3.3

        assert demo.volume("DELETE", f"/messages/{message['id']}", version="3.3").status_code == 204
        assert demo.volume("GET", "/messages", version="3.3").json() == {"messages": []}
        fault(demo.volume("GET", f"/messages/{message['id']}", version="3.3"), 404)
    finally:
        for client in (demo, other, admin):
            client.http.close()

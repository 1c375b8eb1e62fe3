"""Cinder's default rules, and an operator's policy.yaml overriding one of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.volume._helpers import create_volume, fault, fresh_member
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, logged_in


def test_an_operators_policy_file_changes_one_rule(
    tmp_path: Path, server_factory: Callable[..., RunningServer]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"volume:create": "rule:admin_api"\n')
    running = server_factory(policy_file=policy)
    with (
        logged_in(running, "demo", DEMO_PASSWORD, "demo") as demo,
        logged_in(running, "admin", ADMIN_PASSWORD, "admin") as admin,
    ):
        refused = demo.volume("POST", "/volumes", json={"volume": {"size": 1}})
        assert refused.status_code == 403
        assert refused.json() == {
            "forbidden": {"code": 403, "message": "Policy doesn't allow volume:create to be performed."}
        }
        assert demo.volume("GET", "/volumes").json() == {"volumes": []}  # other rules keep their defaults
        assert admin.volume("POST", "/volumes", json={"volume": {"size": 1}}).status_code == 202


def test_a_policy_file_written_while_serving_applies_within_seconds(
    tmp_path: Path, server_factory: Callable[..., RunningServer]
) -> None:
    policy = tmp_path / "policy.yaml"
    running = server_factory(policy_file=policy)
    with logged_in(running, "demo", DEMO_PASSWORD, "demo") as demo:
        assert demo.volume("POST", "/volumes", json={"volume": {"size": 1}}).status_code == 202
        policy.write_text('"volume:create": "!"\n')
        statuses = []
        for _ in range(20):  # the file is looked at once a second; stay under the 10-volume quota
            statuses.append(demo.volume("POST", "/volumes", json={"volume": {"size": 1}}).status_code)
            if statuses[-1] == 403:
                break
            time.sleep(0.25)
        assert statuses[-1] == 403


def test_an_operator_makes_extend_admin_only(tmp_path: Path, server_factory: Callable[..., RunningServer]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"volume:extend": "rule:admin_api"\n')
    running = server_factory(policy_file=policy)
    with (
        logged_in(running, "demo", DEMO_PASSWORD, "demo") as demo,
        logged_in(running, "admin", ADMIN_PASSWORD, "admin") as admin,
    ):
        volume = create_volume(demo, size=1)
        extend = {"os-extend": {"new_size": 2}}
        refused = demo.volume("POST", f"/volumes/{volume['id']}/action", json=extend)
        assert fault(refused, 403) == "Policy doesn't allow volume:extend to be performed."
        assert demo.wait_volume(volume["id"], "available")["size"] == 1
        assert admin.volume("POST", f"/volumes/{volume['id']}/action", json=extend).status_code == 202
        assert demo.wait_volume(volume["id"], "available")["size"] == 2  # the owner still reads it
        # Rules the file does not name keep Cinder's defaults.
        bootable = {"os-set_bootable": {"bootable": True}}
        assert demo.volume("POST", f"/volumes/{volume['id']}/action", json=bootable).status_code == 200


@pytest.mark.parametrize(
    ("action", "body", "rule"),
    [
        ("os-reset_status", {"status": "error"}, "volume_extension:volume_admin_actions:reset_status"),
        ("os-force_delete", {}, "volume_extension:volume_admin_actions:force_delete"),
        ("os-unmanage", {}, "volume_extension:volume_unmanage"),
    ],
)
def test_admin_actions_are_403_for_the_owner_and_202_for_an_admin(
    server: RunningServer, admin: ApiClient, action: str, body: dict[str, Any], rule: str
) -> None:
    with fresh_member(server) as member:
        volume = create_volume(member, size=1)
        path = f"/volumes/{volume['id']}/action"
        assert fault(member.volume("POST", path, json={action: body}), 403) == (
            f"Policy doesn't allow {rule} to be performed."
        )
        assert member.volume("GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
        assert admin.volume("POST", path, json={action: body}).status_code == 202
        if action == "os-reset_status":
            assert member.wait_volume(volume["id"], "error")["status"] == "error"
        else:
            member.wait_gone(f"/volumes/{volume['id']}")

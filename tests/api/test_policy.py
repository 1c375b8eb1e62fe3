"""Cinder's default rules, and an operator's policy.yaml overriding one of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, RunningServer, logged_in


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

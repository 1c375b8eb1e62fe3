"""os-extend of an attached volume (3.42): the file grows, then compute hears ``volume-extended``.

A small HTTP server stands in for the compute API here (the compute side's own
tests drive a real guest); it records what firebrick sends, exactly as Nova
would receive it, and, when told to, reports back through
``os-extend_volume_completion`` as the compute side does once the guest
confirmed the size. ``node`` runs OpenStack's way (no waiting for the guest);
``confirming_node`` waits for that report.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.api.volume._helpers import create_volume, fault, file_backend
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, api_client

GiB = 1024**3


@dataclass
class FakeCompute:
    url: str
    answer: int = 200
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    # Where to report an extend (firebrick's volume API), and whether the guest "failed"; None: never report.
    report_to: str | None = None
    report_error: bool | None = None

    def report(self, token: str, volume_id: str) -> None:
        if self.report_to is None or self.report_error is None:
            return
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.71"}
        body = {"os-extend_volume_completion": {"error": self.report_error}}
        reply = httpx.post(f"{self.report_to}/volumes/{volume_id}/action", json=body, headers=headers)
        assert reply.status_code == 202, reply.text

    def wait_events(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"compute got {len(self.received)} calls, wanted {count}"
            time.sleep(0.02)
        return self.received


@pytest.fixture
def compute() -> Iterator[FakeCompute]:
    state = FakeCompute("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            events = [{**event, "status": "completed", "code": state.answer} for event in body["events"]]
            payload = json.dumps({"events": events}).encode()
            self.send_response(state.answer)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            if state.answer == 200:
                for event in body["events"]:
                    state.report(self.headers["X-Auth-Token"], event["tag"])

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/compute/v2.1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def node(server_factory: Callable[..., RunningServer], compute: FakeCompute) -> RunningServer:
    return server_factory(compute_url=compute.url, extend_confirm_timeout=0)


@pytest.fixture
def confirming_node(server_factory: Callable[..., RunningServer], compute: FakeCompute) -> RunningServer:
    running = server_factory(compute_url=compute.url, extend_confirm_timeout=3)
    compute.report_to = f"{running.url}/volume/v3"
    return running


@pytest.fixture
def demo(node: RunningServer) -> Iterator[ApiClient]:
    client = api_client(node, "demo", DEMO_PASSWORD, "demo")
    yield client
    client.http.close()


def _act(client: ApiClient, volume_id: str, body: Any, version: str | None = None) -> Any:
    return client.volume("POST", f"/volumes/{volume_id}/action", version=version, json=body)


def _wait_size(client: ApiClient, volume_id: str, size: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        volume: dict[str, Any] = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
        if volume["size"] == size and volume["status"] != "extending":
            return volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.05)


def test_an_attached_volume_grows_and_compute_is_told_as_a_service(
    node: RunningServer, demo: ApiClient, compute: FakeCompute
) -> None:
    volume = create_volume(demo)
    server_id = str(uuid.uuid4())
    assert (
        _act(demo, volume["id"], {"os-attach": {"mountpoint": "/dev/vdb", "instance_uuid": server_id}}).status_code
        == 202
    )

    fault(_act(demo, volume["id"], {"os-extend": {"new_size": 2}}, version="3.41"), 400)
    assert _act(demo, volume["id"], {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    shown = _wait_size(demo, volume["id"], 2)
    assert shown["status"] == "in-use" and shown["attachments"][0]["server_id"] == server_id
    assert file_backend(node).volume_path(volume["id"]).stat().st_size == 2 * GiB

    [(headers, body)] = compute.wait_events(1)
    assert body == {"events": [{"name": "volume-extended", "server_uuid": server_id, "tag": volume["id"]}]}
    assert headers["openstack-api-version"] == "compute 2.51"
    caller, _claims = node.node.identity.validate(headers["x-auth-token"])
    assert "service" in caller.roles  # Nova accepts external events from the service role
    node.wait_idle()
    assert _act(demo, volume["id"], {"os-detach": {}}).status_code == 202


def test_a_compute_failure_becomes_a_user_message_and_the_size_stays(
    node: RunningServer, demo: ApiClient, compute: FakeCompute
) -> None:
    compute.answer = 404
    volume = create_volume(demo)
    assert (
        _act(
            demo, volume["id"], {"os-attach": {"mountpoint": "/dev/vdb", "instance_uuid": str(uuid.uuid4())}}
        ).status_code
        == 202
    )
    assert _act(demo, volume["id"], {"os-extend": {"new_size": 3}}, version="3.42").status_code == 202
    assert _wait_size(demo, volume["id"], 3)["status"] == "in-use"
    compute.wait_events(1)
    node.wait_idle()
    [message] = demo.volume("GET", f"/messages?resource_uuid={volume['id']}", version="3.3").json()["messages"]
    assert message["user_message"] == "extend volume: Compute service failed to extend volume."
    assert message["event_id"] == "VOLUME_VOLUME_007_001"
    assert _act(demo, volume["id"], {"os-detach": {}}).status_code == 202


def test_a_volume_attached_to_a_host_only_sends_no_event(
    node: RunningServer, demo: ApiClient, compute: FakeCompute
) -> None:
    volume = create_volume(demo)
    assert (
        _act(demo, volume["id"], {"os-attach": {"mountpoint": "/dev/sdb", "host_name": "baremetal"}}).status_code == 202
    )
    assert _act(demo, volume["id"], {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    assert _wait_size(demo, volume["id"], 2)["status"] == "in-use"
    node.wait_idle()
    assert compute.received == []
    assert _act(demo, volume["id"], {"os-detach": {}}).status_code == 202


def test_extending_an_attached_volume_is_its_own_policy_rule(node: RunningServer, demo: ApiClient) -> None:
    volume = create_volume(demo)
    assert _act(demo, volume["id"], {"os-attach": {"mountpoint": "/dev/vdb", "host_name": "h"}}).status_code == 202
    (node.settings.data_dir / "policy.yaml").write_text('"volume:extend_attached_volume": "rule:admin_api"\n')
    deadline = time.monotonic() + 5
    # Asking for the current size changes nothing either way: 400 under the old rule, 403 under the new.
    while _act(demo, volume["id"], {"os-extend": {"new_size": 1}}, version="3.42").status_code != 403:
        assert time.monotonic() < deadline, "the policy file was not picked up"
        time.sleep(0.2)
    admin = api_client(node, "admin", ADMIN_PASSWORD, "admin")
    assert _act(admin, volume["id"], {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    assert _wait_size(demo, volume["id"], 2)["status"] == "in-use"
    admin.http.close()
    (node.settings.data_dir / "policy.yaml").unlink()


def _attached_volume(client: ApiClient) -> str:
    volume = create_volume(client)
    body = {"os-attach": {"mountpoint": "/dev/vdb", "instance_uuid": str(uuid.uuid4())}}
    assert _act(client, volume["id"], body).status_code == 202
    return str(volume["id"])


def _status_and_size(client: ApiClient, volume_id: str) -> tuple[str, int]:
    volume = client.volume("GET", f"/volumes/{volume_id}").json()["volume"]
    return volume["status"], volume["size"]


def _wait_settled(client: ApiClient, volume_id: str) -> tuple[str, int]:
    deadline = time.monotonic() + 20
    while (found := _status_and_size(client, volume_id))[0] == "extending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return found


def test_a_confirmed_extend_stays_extending_until_compute_reports(
    confirming_node: RunningServer, compute: FakeCompute
) -> None:
    demo = api_client(confirming_node, "demo", DEMO_PASSWORD, "demo")
    compute.report_error = False
    volume_id = _attached_volume(demo)
    assert _act(demo, volume_id, {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    assert _wait_settled(demo, volume_id) == ("in-use", 2)
    assert len(compute.wait_events(1)) == 1
    demo.http.close()


def test_a_reported_failure_gives_error_extending_with_the_old_size(
    confirming_node: RunningServer, compute: FakeCompute
) -> None:
    demo = api_client(confirming_node, "demo", DEMO_PASSWORD, "demo")
    compute.report_error = True
    volume_id = _attached_volume(demo)
    assert _act(demo, volume_id, {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    assert _wait_settled(demo, volume_id) == ("error_extending", 1)
    [message] = demo.volume("GET", f"/messages?resource_uuid={volume_id}", version="3.3").json()["messages"]
    assert message["user_message"] == "extend volume: Compute service failed to extend volume."
    demo.http.close()


def test_no_report_in_time_gives_error_extending(confirming_node: RunningServer, compute: FakeCompute) -> None:
    demo = api_client(confirming_node, "demo", DEMO_PASSWORD, "demo")
    volume_id = _attached_volume(demo)  # report_error None: compute accepts the event and never reports
    assert _act(demo, volume_id, {"os-extend": {"new_size": 2}}, version="3.42").status_code == 202
    assert _wait_settled(demo, volume_id) == ("error_extending", 1)
    [message] = demo.volume("GET", f"/messages?resource_uuid={volume_id}", version="3.3").json()["messages"]
    assert message["user_message"] == "extend volume: The guest did not confirm the new size in time."
    demo.http.close()


def test_completion_is_3_71_admin_only_and_needs_a_waiting_extend(
    confirming_node: RunningServer, compute: FakeCompute
) -> None:
    demo = api_client(confirming_node, "demo", DEMO_PASSWORD, "demo")
    admin = api_client(confirming_node, "admin", ADMIN_PASSWORD, "admin")
    volume_id = _attached_volume(demo)
    body = {"os-extend_volume_completion": {"error": False}}
    fault(_act(admin, volume_id, body, version="3.70"), 404)
    fault(_act(demo, volume_id, body, version="3.71"), 403)
    fault(_act(admin, volume_id, body, version="3.71"), 400)  # nothing is waiting
    fault(_act(admin, volume_id, {"os-extend_volume_completion": {"error": "maybe"}}, version="3.71"), 400)
    assert _status_and_size(demo, volume_id) == ("in-use", 1)
    demo.http.close()
    admin.http.close()

"""os-extend of an attached volume (3.42): the file grows, then compute hears ``volume-extended``.

A small HTTP server stands in for the compute API here (the compute side's own
tests drive a real guest); it records what firebrick sends, exactly as Nova
would receive it.
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

import pytest

from tests.api.volume._helpers import create_volume, fault, file_backend
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, ApiClient, RunningServer, api_client

GiB = 1024**3


@dataclass
class FakeCompute:
    url: str
    answer: int = 200
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

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
    return server_factory(compute_url=compute.url)


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

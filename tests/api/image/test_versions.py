from __future__ import annotations

import httpx

from tests.conftest import DEMO_PASSWORD, RunningServer, token_for


def test_the_root_lists_v2_and_points_under_image(server: RunningServer) -> None:
    for path, status in (("/image", 300), ("/image/", 300), ("/image/versions", 200)):
        response = httpx.get(server.url + path)
        assert response.status_code == status
        versions = response.json()["versions"]
        current = [v for v in versions if v["status"] == "CURRENT"]
        assert len(current) == 1 and current[0]["id"].startswith("v2.")
        assert current[0]["links"] == [{"rel": "self", "href": f"{server.url}/image/v2/"}]


def test_the_catalog_lists_the_image_service(server: RunningServer) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")
    body = httpx.get(f"{server.url}/identity/v3/auth/catalog", headers={"X-Auth-Token": token}).json()
    [image] = [entry for entry in body["catalog"] if entry["type"] == "image"]
    assert image["name"] == "glance"
    assert {e["url"] for e in image["endpoints"]} == {f"{server.url}/image"}

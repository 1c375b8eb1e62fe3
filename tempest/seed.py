"""Create what tempest's config names: the public image (its id is printed) and the multiattach
volume type ``multiattach``. Used by scripts/tempest.sh."""

from __future__ import annotations

import json
import sys
import urllib.request


def _call(method: str, url: str, token: str, body: bytes | None, content_type: str) -> bytes:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("X-Auth-Token", token)
    request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (a loopback URL we were given)
        data: bytes = response.read()
        return data


def main(url: str, user: str, password: str) -> str:
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": user, "domain": {"id": "default"}}},
        }
    }
    request = urllib.request.Request(
        f"{url}/identity/v3/auth/tokens", data=json.dumps(auth).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        token = response.headers["X-Subject-Token"]
        project = json.loads(response.read())["token"]["project"]["id"]
    multiattach = {"volume_type": {"name": "multiattach", "extra_specs": {"multiattach": "<is> True"}}}
    _call("POST", f"{url}/volume/v3/{project}/types", token, json.dumps(multiattach).encode(), "application/json")
    spec = {"name": "tempest-image", "disk_format": "raw", "container_format": "bare", "visibility": "public"}
    image = json.loads(_call("POST", f"{url}/image/v2/images", token, json.dumps(spec).encode(), "application/json"))
    _call("PUT", f"{url}/image/v2/images/{image['id']}/file", token, b"\0" * 1024 * 1024, "application/octet-stream")
    return str(image["id"])


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))

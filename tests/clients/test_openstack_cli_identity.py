"""The stock ``openstack`` command administering identity, as an operator (or tempest) would.

An admin makes a project and a user, grants ``member``, and the new user, with a clouds.yaml of
its own, gets a token scoped to the project and makes a volume there; deleting the user and the
project afterwards removes the assignments and voids the token.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.test_openstack_cli import OPENSTACK, driver, unique
from tests.conftest import ApiClient, RunningServer

pytestmark = pytest.mark.cli

ADMIN = "firebrick-admin"


def openstack(
    server: RunningServer, *args: str, cloud: str = ADMIN, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {"OS_CLIENT_CONFIG_FILE": str(config or server.settings.data_dir / "clouds.yaml"), "OS_CLOUD": cloud}
    return subprocess.run([str(OPENSTACK), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def openstack_ok(server: RunningServer, *args: str, cloud: str = ADMIN, config: Path | None = None) -> str:
    done = openstack(server, *args, cloud=cloud, config=config)
    assert done.returncode == 0, f"openstack {' '.join(args)} failed:\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def openstack_json(server: RunningServer, *args: str, cloud: str = ADMIN, config: Path | None = None) -> Any:
    return json.loads(openstack_ok(server, *args, "-f", "json", cloud=cloud, config=config))


def own_cloud(path: Path, server: RunningServer, user: str, password: str, project: str) -> Path:
    """A clouds.yaml with one cloud, ``mine``, for a user made during the test."""
    auth = {
        "auth_url": f"{server.url}/identity/v3",
        "username": user,
        "password": password,
        "project_name": project,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    cloud = {"auth": auth, "region_name": server.settings.region, "identity_api_version": 3, "volume_api_version": 3}
    path.write_text(json.dumps({"clouds": {"mine": cloud}}))  # JSON is YAML
    return path


def test_a_new_member_of_a_new_project_makes_a_volume(server: RunningServer, tmp_path: Path) -> None:
    project, user, password = unique("cli-p"), unique("cli-u"), uuid.uuid4().hex
    identity = server.node.repos.identity
    made = openstack_json(server, "project", "create", "--description", "made by the cli", project)
    assert (made["name"], made["description"], made["domain_id"], made["enabled"]) == (
        project,
        "made by the cli",
        "default",
        True,
    )
    try:
        person = openstack_json(server, "user", "create", "--password", password, "--project", project, user)
        assert (person["name"], person["default_project_id"], person["enabled"]) == (user, made["id"], True)
        openstack_ok(server, "role", "add", "--user", user, "--project", project, "member")
        assigned = openstack_json(server, "role", "assignment", "list", "--user", user, "--project", project, "--names")
        assert assigned == [
            {
                "Role": "member",
                "User": f"{user}@Default",
                "Group": "",
                "Project": f"{project}@Default",
                "Domain": "",
                "System": "",
                "Inherited": False,
            }
        ]

        mine = own_cloud(tmp_path / "clouds.yaml", server, user, password, project)
        token = openstack_json(server, "token", "issue", cloud="mine", config=mine)
        assert (token["user_id"], token["project_id"]) == (person["id"], made["id"])
        volume = openstack_json(server, "volume", "create", "--size", "1", unique("cli-v"), cloud="mine", config=mine)
        client = ApiClient(httpx.Client(base_url=server.url, headers={"X-Auth-Token": token["id"]}), made["id"])
        try:
            shown = client.wait_volume(volume["id"], "available")
            assert (shown["user_id"], shown["os-vol-tenant-attr:tenant_id"]) == (person["id"], made["id"])
            assert driver(server).volume_path(volume["id"]).is_file()
            openstack_ok(server, "volume", "delete", volume["id"], cloud="mine", config=mine)
            client.wait_gone(f"/volumes/{volume['id']}")

            openstack_ok(server, "user", "delete", user)
            openstack_ok(server, "project", "delete", project)
            assert client.volume("GET", "/volumes").status_code == 401  # the token died with its user
        finally:
            client.http.close()
    finally:
        _discard(server, user, project)
    assert identity.user(name=user) is None and identity.project(name=project) is None
    assert identity.assignments(user_id=person["id"]) == [] and identity.assignments(project_id=made["id"]) == []
    gone = openstack(server, "project", "show", project)
    assert gone.returncode != 0 and f"No Project found for {project}" in gone.stderr


def test_roles_passwords_and_listings(server: RunningServer, tmp_path: Path) -> None:
    project, user, role = unique("cli-p"), unique("cli-u"), unique("cli-r")
    openstack_ok(server, "project", "create", project)
    try:
        openstack_ok(server, "user", "create", "--password", "first", "--email", "u@example.org", user)
        made = openstack_json(server, "role", "create", role)
        assert (made["name"], made["domain_id"]) == (role, None)
        assert openstack_json(server, "role", "show", role)["id"] == made["id"]
        assert role in {r["Name"] for r in openstack_json(server, "role", "list")}
        openstack_ok(server, "role", "add", "--user", user, "--project", project, role)
        openstack_ok(server, "role", "add", "--user", user, "--project", project, "reader")
        openstack_ok(server, "role", "remove", "--user", user, "--project", project, "reader")
        held = openstack_json(server, "role", "assignment", "list", "--user", user, "--names")
        assert [row["Role"] for row in held] == [role]

        openstack_ok(server, "user", "set", "--password", "second", user)
        mine = own_cloud(tmp_path / "clouds.yaml", server, user, "second", project)
        assert openstack_json(server, "token", "issue", cloud="mine", config=mine)["project_id"]
        own_cloud(mine, server, user, "first", project)
        stale = openstack(server, "token", "issue", cloud="mine", config=mine)
        assert stale.returncode != 0 and "401" in stale.stderr

        assert user in {u["Name"] for u in openstack_json(server, "user", "list")}
        assert openstack_json(server, "user", "show", user)["email"] == "u@example.org"
        assert project in {p["Name"] for p in openstack_json(server, "project", "list")}
        again = openstack(server, "project", "create", project)
        assert again.returncode != 0 and "Duplicate entry found with name" in again.stderr

        openstack_ok(server, "role", "delete", role)
        assert openstack_json(server, "role", "assignment", "list", "--user", user) == []
    finally:
        _discard(server, user, project)
        openstack(server, "role", "delete", role)


def test_a_member_cannot_create_a_project(server: RunningServer) -> None:
    name = unique("cli-p")

    refused = openstack(server, "project", "create", name, cloud="firebrick")

    assert refused.returncode != 0 and "403" in refused.stderr and "identity:create_project" in refused.stderr
    assert server.node.repos.identity.project(name=name) is None


def _discard(server: RunningServer, user: str, project: str) -> None:
    """Remove what a failed test left, without the CLI."""
    repo = server.node.repos.identity
    found_user, found_project = repo.user(name=user), repo.project(name=project)
    if found_user is not None:
        repo.delete_user(found_user.id)
    if found_project is not None:
        repo.delete_project(found_project.id)

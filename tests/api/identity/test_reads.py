"""The identity reads clients make after authenticating, and how passwords are kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, OTHER_PASSWORD, READER_PASSWORD, RunningServer, token_for


class Identity:
    """Raw HTTP against ``/identity/v3`` as one user."""

    def __init__(self, server: RunningServer, user: str, password: str, project: str) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=f"{server.url}/identity/v3",
            headers={"X-Auth-Token": token_for(server.url, user, password, project)},
        )
        repo = server.node.repos.identity
        found_user, found_project = repo.user(name=user), repo.project(name=project)
        assert found_user is not None and found_project is not None
        self.user_id, self.project_id = found_user.id, found_project.id

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)


@pytest.fixture(scope="module")
def demo_id(server: RunningServer) -> Iterator[Identity]:
    client = Identity(server, "demo", DEMO_PASSWORD, "demo")
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def admin_id(server: RunningServer) -> Iterator[Identity]:
    client = Identity(server, "admin", ADMIN_PASSWORD, "admin")
    yield client
    client.http.close()


def project_names(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {p["name"] for p in response.json()["projects"]}


def test_auth_projects_lists_the_callers_projects(demo_id: Identity) -> None:
    response = demo_id.get("/auth/projects")

    assert project_names(response) == {"demo"}
    project = response.json()["projects"][0]
    assert project["id"] == demo_id.project_id
    assert project["domain_id"] == "default" and project["enabled"] is True
    assert project["links"]["self"].endswith(f"/identity/v3/projects/{demo_id.project_id}")


def test_auth_catalog_matches_the_token(demo_id: Identity) -> None:
    response = demo_id.get("/auth/catalog")

    assert response.status_code == 200
    urls = {e["type"]: e["endpoints"][0]["url"] for e in response.json()["catalog"]}
    assert urls["block-storage"].endswith(f"/volume/v3/{demo_id.project_id}")
    assert urls["volumev3"] == urls["block-storage"]


def test_user_can_read_itself(demo_id: Identity) -> None:
    response = demo_id.get(f"/users/{demo_id.user_id}")

    assert response.status_code == 200
    user = response.json()["user"]
    assert user["id"] == demo_id.user_id and user["name"] == "demo"
    assert user["domain_id"] == "default" and user["enabled"] is True
    assert user["default_project_id"] == demo_id.project_id
    assert "password" not in user and "password_hash" not in user
    assert not any("scrypt" in str(value) for value in user.values())


def test_member_may_not_read_another_user(demo_id: Identity, admin_id: Identity) -> None:
    response = demo_id.get(f"/users/{admin_id.user_id}")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == 403 and error["title"] == "Forbidden"
    assert "identity:get_user" in error["message"]
    assert demo_id.get(f"/users/{admin_id.user_id}/projects").status_code == 403


def test_admin_may_read_another_user(admin_id: Identity, demo_id: Identity) -> None:
    response = admin_id.get(f"/users/{demo_id.user_id}")

    assert response.status_code == 200
    assert response.json()["user"]["name"] == "demo"
    assert admin_id.get(f"/users/{'0' * 32}").status_code == 404


def test_user_projects(demo_id: Identity) -> None:
    assert project_names(demo_id.get(f"/users/{demo_id.user_id}/projects")) == {"demo"}


def test_member_sees_only_its_projects_admin_sees_all(demo_id: Identity, admin_id: Identity) -> None:
    assert project_names(demo_id.get("/projects")) == {"demo"}
    everything = project_names(admin_id.get("/projects"))
    assert {"admin", "demo", "other"} <= everything
    assert project_names(admin_id.get("/projects", params={"name": "other"})) == {"other"}
    assert project_names(demo_id.get("/projects", params={"name": "other"})) == set()


def test_project_show_is_limited_to_the_callers_project(demo_id: Identity, admin_id: Identity) -> None:
    own = demo_id.get(f"/projects/{demo_id.project_id}")
    assert own.status_code == 200
    assert own.json()["project"]["name"] == "demo"

    assert demo_id.get(f"/projects/{admin_id.project_id}").status_code == 403
    assert admin_id.get(f"/projects/{demo_id.project_id}").status_code == 200
    missing = admin_id.get(f"/projects/{'f' * 32}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404


def test_roles_lists_the_bootstrap_roles(demo_id: Identity) -> None:
    response = demo_id.get("/roles")

    assert response.status_code == 200
    roles = response.json()["roles"]
    assert {"admin", "member", "reader", "service"} <= {r["name"] for r in roles}
    assert all(len(r["id"]) == 32 for r in roles)


def test_default_domain(demo_id: Identity) -> None:
    response = demo_id.get("/domains/default")

    assert response.status_code == 200
    assert response.json()["domain"] == {
        "id": "default",
        "name": "Default",
        "description": "The default domain",
        "enabled": True,
        "tags": [],
        "options": {},
        "links": {"self": f"{demo_id.server.url}/identity/v3/domains/default"},
    }
    assert demo_id.get("/domains/nope").status_code == 404


@pytest.mark.parametrize("path", ["/auth/projects", "/auth/catalog", "/projects", "/roles", "/domains/default"])
def test_reads_need_a_token(server: RunningServer, path: str) -> None:
    response = httpx.get(f"{server.url}/identity/v3{path}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert response.headers["www-authenticate"] == f'Keystone uri="{server.url}/identity"'


@pytest.mark.parametrize(
    ("user", "password", "project", "roles"),
    [
        ("admin", ADMIN_PASSWORD, "admin", {"admin", "member", "reader"}),
        ("demo", DEMO_PASSWORD, "demo", {"member", "reader"}),
        ("reader", READER_PASSWORD, "demo", {"reader"}),
    ],
)
def test_implied_roles(server: RunningServer, user: str, password: str, project: str, roles: set[str]) -> None:
    token = token_for(server.url, user, password, project)
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    response = httpx.get(f"{server.url}/identity/v3/auth/tokens", headers=headers)

    assert {r["name"] for r in response.json()["token"]["roles"]} == roles


@pytest.mark.parametrize(
    ("user", "password"),
    [("admin", ADMIN_PASSWORD), ("demo", DEMO_PASSWORD), ("other", OTHER_PASSWORD)],
)
def test_passwords_are_stored_hashed(server: RunningServer, user: str, password: str) -> None:
    found = server.node.repos.identity.user(name=user)

    assert found is not None
    assert found.password_hash.startswith("scrypt$")
    assert password not in found.password_hash
    # scrypt$N$r$p$salt$digest, with a work factor and salt worth the name.
    scheme, n, _r, _p, salt, digest = found.password_hash.split("$")
    assert scheme == "scrypt" and int(n) >= 2**14 and len(salt) >= 16 and len(digest) >= 32


def test_two_users_with_one_password_have_different_hashes(server: RunningServer) -> None:
    from firebrick.domain.identity.passwords import hash_password, verify_password

    first, second = hash_password(DEMO_PASSWORD), hash_password(DEMO_PASSWORD)

    assert first != second
    assert verify_password(DEMO_PASSWORD, first) and verify_password(DEMO_PASSWORD, second)
    assert not verify_password(DEMO_PASSWORD + "x", first)
    stored = server.node.repos.identity.user(name="demo")
    assert stored is not None and verify_password(DEMO_PASSWORD, stored.password_hash)


"""``/identity/v3/projects`` as Keystone answers it: create, list, show, update, delete, admin only."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.identity._helpers import Account, Keystone, keystone_error, unique
from tests.conftest import RunningServer

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def create(admin: Keystone, **fields: object) -> dict[str, object]:
    body: dict[str, object] = admin.ok("POST", "/projects", 201, json={"project": fields})["project"]
    return body


def test_create_answers_keystones_project(server: RunningServer, ks_admin: Keystone) -> None:
    name = unique("p")

    created = create(ks_admin, name=name, description="from a test", tags=["a", "b"], color="blue")
    try:
        assert HEX32.match(str(created["id"]))
        assert created == {
            "id": created["id"],
            "name": name,
            "description": "from a test",
            "domain_id": "default",
            "enabled": True,
            "is_domain": False,
            "parent_id": "default",
            "tags": ["a", "b"],
            "options": {},
            "color": "blue",  # an attribute Keystone does not know is kept and shown back
            "links": {"self": f"{server.url}/identity/v3/projects/{created['id']}"},
        }
        assert ks_admin.ok("GET", f"/projects/{created['id']}")["project"] == created
        stored = server.node.repos.identity.project(project_id=str(created["id"]))
        assert stored is not None and stored.name == name and stored.tags == ("a", "b")
    finally:
        ks_admin.ok("DELETE", f"/projects/{created['id']}", 204)


def test_defaults_of_a_bare_project(ks_admin: Keystone) -> None:
    created = create(ks_admin, name=unique("p"))
    try:
        assert (created["description"], created["enabled"], created["tags"]) == ("", True, [])
        assert (created["domain_id"], created["parent_id"]) == ("default", "default")
    finally:
        ks_admin.ok("DELETE", f"/projects/{created['id']}", 204)


def test_a_duplicate_name_is_409_with_keystones_message(ks_admin: Keystone) -> None:
    name = unique("p")
    created = create(ks_admin, name=name)
    try:
        duplicate = ks_admin.request("POST", "/projects", json={"project": {"name": name}})

        assert keystone_error(duplicate, 409) == (
            f"Conflict occurred attempting to store project - Duplicate entry found with name {name} "
            "at domain ID default."
        )
        assert [p["id"] for p in ks_admin.ok("GET", "/projects", params={"name": name})["projects"]] == [
            created["id"]
        ]
    finally:
        ks_admin.ok("DELETE", f"/projects/{created['id']}", 204)


def test_list_filters(ks_admin: Keystone) -> None:
    on, off = create(ks_admin, name=unique("p-on")), create(ks_admin, name=unique("p-off"), enabled=False)
    try:
        everything = {p["id"]: p for p in ks_admin.ok("GET", "/projects")["projects"]}
        assert {on["id"], off["id"]} <= everything.keys()
        assert everything[off["id"]]["enabled"] is False
        disabled = {p["id"] for p in ks_admin.ok("GET", "/projects", params={"enabled": "false"})["projects"]}
        assert off["id"] in disabled and on["id"] not in disabled
        assert [p["id"] for p in ks_admin.ok("GET", "/projects", params={"name": on["name"]})["projects"]] == [
            on["id"]
        ]
        assert ks_admin.ok("GET", "/projects", params={"domain_id": "elsewhere"})["projects"] == []
        listing = ks_admin.ok("GET", "/projects", params={"name": on["name"]})
        assert listing["links"]["next"] is None and listing["links"]["previous"] is None
    finally:
        ks_admin.ok("DELETE", f"/projects/{on['id']}", 204)
        ks_admin.ok("DELETE", f"/projects/{off['id']}", 204)


def test_update(ks_admin: Keystone) -> None:
    created = create(ks_admin, name=unique("p"), tags=["old"])
    renamed = unique("p2")
    try:
        patch = {"name": renamed, "description": "changed", "tags": ["new"], "color": "red"}
        updated = ks_admin.ok("PATCH", f"/projects/{created['id']}", json={"project": patch})["project"]

        assert (updated["name"], updated["description"], updated["tags"]) == (renamed, "changed", ["new"])
        assert updated["color"] == "red" and updated["enabled"] is True
        assert ks_admin.ok("GET", f"/projects/{created['id']}")["project"] == updated
    finally:
        ks_admin.ok("DELETE", f"/projects/{created['id']}", 204)


@pytest.mark.parametrize(
    "patch",
    [{"domain_id": "elsewhere"}, {"parent_id": "f" * 32}, {"is_domain": True}, {"id": "0" * 32}, {}],
)
def test_update_refuses_what_cannot_change(ks_admin: Keystone, patch: dict[str, object]) -> None:
    created = create(ks_admin, name=unique("p"))
    try:
        keystone_error(ks_admin.request("PATCH", f"/projects/{created['id']}", json={"project": patch}), 400)
        assert ks_admin.ok("GET", f"/projects/{created['id']}")["project"] == created
    finally:
        ks_admin.ok("DELETE", f"/projects/{created['id']}", 204)


def test_rename_onto_a_taken_name_is_409(ks_admin: Keystone) -> None:
    first, second = create(ks_admin, name=unique("p")), create(ks_admin, name=unique("p"))
    try:
        taken = ks_admin.request("PATCH", f"/projects/{second['id']}", json={"project": {"name": first["name"]}})
        assert "Duplicate entry found with name" in keystone_error(taken, 409)
    finally:
        ks_admin.ok("DELETE", f"/projects/{first['id']}", 204)
        ks_admin.ok("DELETE", f"/projects/{second['id']}", 204)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"domain_id": "elsewhere"}, "Could not find domain: elsewhere."),
        ({"parent_id": "a" * 32}, "Project hierarchies are not supported"),
        ({"is_domain": True}, "Creating a domain is not supported"),
        ({"options": {"immutable": True}}, "Resource options are not supported: immutable."),
        ({"tags": ["a/b"]}, "Invalid input for field/attribute"),
        ({"enabled": "yes"}, "Invalid input for field/attribute enabled"),
        ({"name": "x" * 65}, "Invalid input for field/attribute name"),
    ],
)
def test_create_refuses(ks_admin: Keystone, fields: dict[str, object], message: str) -> None:
    name = unique("p")

    refused = ks_admin.request("POST", "/projects", json={"project": {"name": name, **fields}})

    assert message in keystone_error(refused, 400)
    assert ks_admin.ok("GET", "/projects", params={"name": name})["projects"] == []


def test_create_needs_a_name(ks_admin: Keystone) -> None:
    assert "'name' is a required property" in keystone_error(
        ks_admin.request("POST", "/projects", json={"project": {"description": "x"}}), 400
    )


def test_delete_removes_assignments_and_voids_tokens(
    server: RunningServer, ks_admin: Keystone, account: Account
) -> None:
    token = account.token(server)
    headers = {"X-Auth-Token": token}
    assert httpx.get(f"{server.url}/identity/v3/auth/projects", headers=headers).status_code == 200

    ks_admin.ok("DELETE", f"/projects/{account.project_id}", 204)

    assert server.node.repos.identity.assignments(project_id=account.project_id) == []
    assert httpx.get(f"{server.url}/identity/v3/auth/projects", headers=headers).status_code == 401
    missing = ks_admin.request("GET", f"/projects/{account.project_id}")
    assert keystone_error(missing, 404) == f"Could not find project: {account.project_id}."
    again = ks_admin.request("DELETE", f"/projects/{account.project_id}")
    assert keystone_error(again, 404) == f"Could not find project: {account.project_id}."
    assert server.node.repos.identity.user(user_id=account.user_id) is not None  # the user stays


def test_disabling_a_project_voids_its_tokens(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    token = account.token(server)
    volumes = f"{server.url}/volume/v3/{account.project_id}/volumes"
    assert httpx.get(volumes, headers={"X-Auth-Token": token}).status_code == 200

    ks_admin.ok("PATCH", f"/projects/{account.project_id}", json={"project": {"enabled": False}})

    assert httpx.get(volumes, headers={"X-Auth-Token": token}).status_code == 401
    ks_admin.ok("PATCH", f"/projects/{account.project_id}", json={"project": {"enabled": True}})
    assert httpx.get(volumes, headers={"X-Auth-Token": account.token(server)}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "rule"),
    [
        ("POST", "/projects", {"project": {"name": "nope"}}, "identity:create_project"),
        ("PATCH", "/projects/{other}", {"project": {"name": "nope"}}, "identity:update_project"),
        ("DELETE", "/projects/{other}", None, "identity:delete_project"),
        ("GET", "/projects/{other}", None, "identity:get_project"),
    ],
)
def test_a_member_may_not_administer_projects(
    ks_demo: Keystone, account: Account, method: str, path: str, body: object, rule: str
) -> None:
    refused = ks_demo.request(method, path.format(other=account.project_id), json=body)

    assert rule in keystone_error(refused, 403)


def test_a_member_lists_and_reads_only_its_own(ks_demo: Keystone, account: Account) -> None:
    names = {p["name"] for p in ks_demo.ok("GET", "/projects")["projects"]}

    assert names == {"demo"}
    assert account.project_name not in names
    own = ks_demo.ok("GET", "/projects", params={"name": "demo"})["projects"][0]
    assert ks_demo.ok("GET", f"/projects/{own['id']}")["project"]["name"] == "demo"

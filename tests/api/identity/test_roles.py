"""``/identity/v3/roles``: create, list, show, update, delete; listing is open, changing is the admin's."""

from __future__ import annotations

import httpx

from tests.api.identity._helpers import Account, Keystone, keystone_error, unique
from tests.conftest import RunningServer


def test_create_show_update_delete(server: RunningServer, ks_admin: Keystone) -> None:
    name = unique("r")

    created = ks_admin.ok("POST", "/roles", 201, json={"role": {"name": name}})["role"]
    try:
        assert created == {
            "id": created["id"],
            "name": name,
            "domain_id": None,
            "description": None,
            "options": {},
            "links": {"self": f"{server.url}/identity/v3/roles/{created['id']}"},
        }
        assert ks_admin.ok("GET", f"/roles/{created['id']}")["role"] == created
        assert [r["id"] for r in ks_admin.ok("GET", "/roles", params={"name": name})["roles"]] == [created["id"]]

        patch = {"role": {"name": name + "-x", "description": "renamed"}}
        updated = ks_admin.ok("PATCH", f"/roles/{created['id']}", json=patch)["role"]
        assert (updated["name"], updated["description"]) == (name + "-x", "renamed")
    finally:
        ks_admin.ok("DELETE", f"/roles/{created['id']}", 204)
    missing = ks_admin.request("GET", f"/roles/{created['id']}")
    assert keystone_error(missing, 404) == f"Could not find role: {created['id']}."


def test_a_duplicate_name_is_409_with_keystones_message(ks_admin: Keystone) -> None:
    refused = ks_admin.request("POST", "/roles", json={"role": {"name": "member"}})

    assert keystone_error(refused, 409) == (
        "Conflict occurred attempting to store role - Duplicate entry found with name member."
    )


def test_domain_specific_roles_are_refused(ks_admin: Keystone) -> None:
    name = unique("r")

    refused = ks_admin.request("POST", "/roles", json={"role": {"name": name, "domain_id": "default"}})

    assert "Domain-specific roles are not supported" in keystone_error(refused, 400)
    assert ks_admin.ok("GET", "/roles", params={"name": name})["roles"] == []
    assert ks_admin.ok("GET", "/roles", params={"domain_id": "default"})["roles"] == []


def test_deleting_a_role_removes_its_assignments(
    server: RunningServer, ks_admin: Keystone, account: Account
) -> None:
    role = ks_admin.ok("POST", "/roles", 201, json={"role": {"name": unique("r")}})["role"]
    grant = f"/projects/{account.project_id}/users/{account.user_id}/roles/{role['id']}"
    ks_admin.ok("PUT", grant, 204)

    ks_admin.ok("DELETE", f"/roles/{role['id']}", 204)

    assert server.node.repos.identity.assignments(role_id=role["id"]) == []
    remaining = ks_admin.ok("GET", f"/projects/{account.project_id}/users/{account.user_id}/roles")["roles"]
    assert [r["name"] for r in remaining] == ["member"]


def test_a_member_lists_roles_but_may_not_change_them(ks_demo: Keystone, ks_admin: Keystone) -> None:
    member = ks_demo.ok("GET", "/roles", params={"name": "member"})["roles"][0]
    assert ks_demo.ok("GET", f"/roles/{member['id']}")["role"]["name"] == "member"

    for method, path, body, rule in (
        ("POST", "/roles", {"role": {"name": unique("r")}}, "identity:create_role"),
        ("PATCH", f"/roles/{member['id']}", {"role": {"name": "mine"}}, "identity:update_role"),
        ("DELETE", f"/roles/{member['id']}", None, "identity:delete_role"),
    ):
        assert rule in keystone_error(ks_demo.request(method, path, json=body), 403)
    assert ks_admin.ok("GET", f"/roles/{member['id']}")["role"]["name"] == "member"


def test_roles_need_a_token(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/identity/v3/roles", json={"role": {"name": unique("r")}})

    assert keystone_error(response, 401)

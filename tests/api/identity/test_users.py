"""``/identity/v3/users``: create, list, show, update (password, enable), delete, own password change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.identity._helpers import Account, Keystone, keystone_error, provision, unique
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, RunningServer, token_for

DENIED = "The request you have made requires authentication."


def login(server: RunningServer, name: str, password: str, project: str) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    return httpx.post(f"{server.url}/identity/v3/auth/tokens", json=body)


def volumes_status(server: RunningServer, account: Account, token: str) -> int:
    url = f"{server.url}/volume/v3/{account.project_id}/volumes"
    return httpx.get(url, headers={"X-Auth-Token": token}).status_code


def test_create_as_tempest_does(server: RunningServer, ks_admin: Keystone) -> None:
    name, project = unique("u"), ks_admin.ok("GET", "/projects", params={"name": "demo"})["projects"][0]
    body = {"name": name, "password": "s3cret", "domain_id": "default", "project_id": project["id"], "email": "u@x"}

    created = ks_admin.ok("POST", "/users", 201, json={"user": body})["user"]
    try:
        assert created == {
            "id": created["id"],
            "name": name,
            "domain_id": "default",
            "enabled": True,
            "password_expires_at": None,
            "options": {},
            "email": "u@x",
            "project_id": project["id"],  # tempest's attribute: kept as Keystone keeps it, not a default project
            "links": {"self": f"{server.url}/identity/v3/users/{created['id']}"},
        }
        assert ks_admin.ok("GET", f"/users/{created['id']}")["user"] == created
        stored = server.node.repos.identity.user(user_id=created["id"])
        assert stored is not None and stored.password_hash.startswith("scrypt$") and "s3cret" not in str(stored)
    finally:
        ks_admin.ok("DELETE", f"/users/{created['id']}", 204)


def test_default_project_is_shown_when_set(ks_admin: Keystone, account: Account) -> None:
    body = {"name": unique("u"), "default_project_id": account.project_id, "description": "d"}

    created = ks_admin.ok("POST", "/users", 201, json={"user": body})["user"]
    try:
        assert (created["default_project_id"], created["description"]) == (account.project_id, "d")
    finally:
        ks_admin.ok("DELETE", f"/users/{created['id']}", 204)


def test_a_user_without_a_password_cannot_log_in(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    user = ks_admin.ok("POST", "/users", 201, json={"user": {"name": unique("u")}})["user"]
    try:
        member = ks_admin.ok("GET", "/roles", params={"name": "member"})["roles"][0]["id"]
        ks_admin.ok("PUT", f"/projects/{account.project_id}/users/{user['id']}/roles/{member}", 204)
        for password in ("", "anything"):
            assert login(server, user["name"], password, account.project_name).status_code == 401
    finally:
        ks_admin.ok("DELETE", f"/users/{user['id']}", 204)


def test_a_duplicate_name_is_409_with_keystones_message(ks_admin: Keystone) -> None:
    refused = ks_admin.request("POST", "/users", json={"user": {"name": "demo", "password": "x"}})

    assert keystone_error(refused, 409) == (
        "Conflict occurred attempting to store user - Duplicate entry found with name demo at domain ID default."
    )


def test_an_unknown_domain_is_404_for_a_user(ks_admin: Keystone) -> None:
    name = unique("u")

    refused = ks_admin.request("POST", "/users", json={"user": {"name": name, "domain_id": "elsewhere"}})

    assert keystone_error(refused, 404) == "Could not find domain: elsewhere."  # tempest checks Keystone's 404
    assert ks_admin.ok("GET", "/users", params={"name": name})["users"] == []


def test_list_and_filters(ks_admin: Keystone, account: Account) -> None:
    listed = ks_admin.ok("GET", "/users")

    assert {"admin", "demo", account.user_name} <= {u["name"] for u in listed["users"]}
    assert listed["links"]["self"].endswith("/identity/v3/users")
    by_name = ks_admin.ok("GET", "/users", params={"name": account.user_name, "domain_id": "default"})["users"]
    assert [u["id"] for u in by_name] == [account.user_id]
    assert ks_admin.ok("GET", "/users", params={"domain_id": "elsewhere"})["users"] == []
    assert ks_admin.ok("GET", "/users", params={"name": "nobody-" + unique("x")})["users"] == []


def test_setting_a_password_voids_the_old_tokens(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    old_token = account.token(server)
    assert volumes_status(server, account, old_token) == 200

    ks_admin.ok("PATCH", f"/users/{account.user_id}", json={"user": {"password": "brand-new"}})

    assert volumes_status(server, account, old_token) == 401
    assert login(server, account.user_name, account.password, account.project_name).status_code == 401
    fresh = login(server, account.user_name, "brand-new", account.project_name)
    assert fresh.status_code == 201
    assert volumes_status(server, account, fresh.headers["x-subject-token"]) == 200


def test_an_old_token_cannot_be_rescoped_after_a_password_change(
    server: RunningServer, ks_admin: Keystone, account: Account
) -> None:
    old_token = account.token(server)
    ks_admin.ok("PATCH", f"/users/{account.user_id}", json={"user": {"password": "brand-new"}})
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": old_token}}}}

    rescoped = httpx.post(f"{server.url}/identity/v3/auth/tokens", json=body)

    assert keystone_error(rescoped, 401) == DENIED


def test_disabling_a_user_voids_its_tokens(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    token = account.token(server)

    disabled = ks_admin.ok("PATCH", f"/users/{account.user_id}", json={"user": {"enabled": False}})["user"]

    assert disabled["enabled"] is False
    assert volumes_status(server, account, token) == 401
    assert login(server, account.user_name, account.password, account.project_name).status_code == 401
    ks_admin.ok("PATCH", f"/users/{account.user_id}", json={"user": {"enabled": True}})
    assert volumes_status(server, account, token) == 401  # re-enabling does not bring old tokens back
    assert login(server, account.user_name, account.password, account.project_name).status_code == 201


def test_update_fields_and_what_cannot_change(ks_admin: Keystone, account: Account) -> None:
    renamed = unique("u2")
    patch = {"id": account.user_id, "name": renamed, "email": "new@x", "default_project_id": account.project_id}

    updated = ks_admin.ok("PATCH", f"/users/{account.user_id}", json={"user": patch})["user"]

    assert (updated["name"], updated["email"], updated["default_project_id"]) == (
        renamed,
        "new@x",
        account.project_id,
    )
    for bad in ({"id": "0" * 32}, {"domain_id": "elsewhere"}, {"options": {"lock_password": True}}, {}):
        keystone_error(ks_admin.request("PATCH", f"/users/{account.user_id}", json={"user": bad}), 400)
    taken = ks_admin.request("PATCH", f"/users/{account.user_id}", json={"user": {"name": "demo"}})
    assert "Duplicate entry found with name demo" in keystone_error(taken, 409)
    assert ks_admin.ok("GET", f"/users/{account.user_id}")["user"] == updated


def test_delete_removes_assignments_and_voids_tokens(
    server: RunningServer, ks_admin: Keystone, account: Account
) -> None:
    token = account.token(server)
    assert volumes_status(server, account, token) == 200

    ks_admin.ok("DELETE", f"/users/{account.user_id}", 204)

    assert volumes_status(server, account, token) == 401
    assert server.node.repos.identity.assignments(user_id=account.user_id) == []
    assert keystone_error(ks_admin.request("GET", f"/users/{account.user_id}"), 404) == (
        f"Could not find user: {account.user_id}."
    )
    assert keystone_error(ks_admin.request("DELETE", f"/users/{account.user_id}"), 404) == (
        f"Could not find user: {account.user_id}."
    )
    assert server.node.repos.identity.project(project_id=account.project_id) is not None  # the project stays


def test_a_user_changes_its_own_password(server: RunningServer, account: Account) -> None:
    url = f"{server.url}/identity/v3/users/{account.user_id}/password"
    wrong = httpx.post(url, json={"user": {"original_password": "not-it", "password": "n3w"}})
    assert keystone_error(wrong, 401) == DENIED

    changed = httpx.post(url, json={"user": {"original_password": account.password, "password": "n3w"}})

    assert changed.status_code == 204 and changed.content == b""
    assert login(server, account.user_name, "n3w", account.project_name).status_code == 201
    assert login(server, account.user_name, account.password, account.project_name).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "rule"),
    [
        ("GET", "/users", None, "identity:list_users"),
        ("POST", "/users", {"user": {"name": "nope"}}, "identity:create_user"),
        ("PATCH", "/users/{other}", {"user": {"enabled": False}}, "identity:update_user"),
        ("DELETE", "/users/{other}", None, "identity:delete_user"),
        ("GET", "/users/{other}", None, "identity:get_user"),
    ],
)
def test_a_member_may_not_administer_users(
    ks_demo: Keystone, ks_admin: Keystone, account: Account, method: str, path: str, body: Any, rule: str
) -> None:
    refused = ks_demo.request(method, path.format(other=account.user_id), json=body)

    assert rule in keystone_error(refused, 403)
    assert ks_admin.ok("GET", f"/users/{account.user_id}")["user"]["enabled"] is True


def test_an_operator_lets_users_edit_themselves(tmp_path: Path, server_factory: Callable[..., RunningServer]) -> None:
    policy = tmp_path / "policy.yaml"
    # Keystone's target names work in an operator's rules, as they do in Keystone's own file.
    policy.write_text('"identity:update_user": "rule:admin_api or user_id:%(target.user.id)s"\n')
    running = server_factory(policy_file=policy)
    admin = Keystone(running, token_for(running.url, "admin", ADMIN_PASSWORD, "admin"))
    demo = Keystone(running, token_for(running.url, "demo", DEMO_PASSWORD, "demo"))
    try:
        other = provision(admin)
        demo_id = admin.ok("GET", "/users", params={"name": "demo"})["users"][0]["id"]

        mine = demo.ok("PATCH", f"/users/{demo_id}", json={"user": {"description": "me"}})["user"]

        assert mine["description"] == "me"
        refused = demo.request("PATCH", f"/users/{other.user_id}", json={"user": {"description": "you"}})
        assert "identity:update_user" in keystone_error(refused, 403)
        assert "identity:list_users" in keystone_error(demo.request("GET", "/users"), 403)  # the rest keep defaults
    finally:
        admin.close()
        demo.close()

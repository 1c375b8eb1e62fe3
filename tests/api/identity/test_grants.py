"""``/identity/v3/projects/{p}/users/{u}/roles/{r}``: grant, check, list, revoke, as Keystone answers."""

from __future__ import annotations

import httpx

from tests.api.identity._helpers import Account, Keystone, keystone_error, role_id
from tests.conftest import DEMO_PASSWORD, RunningServer, token_for


def test_grant_check_list_revoke(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    reader = role_id(ks_admin, "reader")
    path = f"/projects/{account.project_id}/users/{account.user_id}/roles/{reader}"
    assert ks_admin.request("HEAD", path).status_code == 404  # a HEAD answer has no body

    for _ in range(2):  # granting twice is not an error, as in Keystone
        granted = ks_admin.request("PUT", path)
        assert granted.status_code == 204 and granted.content == b""

    assert ks_admin.request("HEAD", path).status_code == 204
    assert ks_admin.request("GET", path).status_code == 204
    listed = ks_admin.ok("GET", f"/projects/{account.project_id}/users/{account.user_id}/roles")
    assert sorted(r["name"] for r in listed["roles"]) == ["member", "reader"]
    assert all(r["links"]["self"] == f"{server.url}/identity/v3/roles/{r['id']}" for r in listed["roles"])

    revoked = ks_admin.request("DELETE", path)
    assert revoked.status_code == 204 and revoked.content == b""
    assert ks_admin.request("HEAD", path).status_code == 404
    assert keystone_error(ks_admin.request("DELETE", path), 404) == (
        f"Could not find role assignment with role: {reader}, user or group: {account.user_id}, "
        f"project, domain, or system: {account.project_id}."
    )


def test_a_grant_opens_the_project_and_a_revoke_closes_it(
    server: RunningServer, ks_admin: Keystone, account: Account
) -> None:
    member = role_id(ks_admin, "member")
    path = f"/projects/{account.project_id}/users/{account.user_id}/roles/{member}"
    token = account.token(server)
    volumes = f"{server.url}/volume/v3/{account.project_id}/volumes"
    assert httpx.get(volumes, headers={"X-Auth-Token": token}).status_code == 200

    ks_admin.ok("DELETE", path, 204)

    assert httpx.get(volumes, headers={"X-Auth-Token": token}).status_code == 401
    refused = httpx.post(f"{server.url}/identity/v3/auth/tokens", json=_login(account))
    assert refused.status_code == 401
    ks_admin.ok("PUT", path, 204)
    assert httpx.get(volumes, headers={"X-Auth-Token": account.token(server)}).status_code == 200


def test_unknown_parts_are_404(ks_admin: Keystone, account: Account) -> None:
    member, missing = role_id(ks_admin, "member"), "0" * 32
    base = f"/projects/{account.project_id}/users/{account.user_id}/roles"

    assert keystone_error(ks_admin.request("PUT", f"{base}/{missing}"), 404) == f"Could not find role: {missing}."
    no_user = f"/projects/{account.project_id}/users/{missing}/roles/{member}"
    assert keystone_error(ks_admin.request("PUT", no_user), 404) == f"Could not find user: {missing}."
    no_project = f"/projects/{missing}/users/{account.user_id}/roles/{member}"
    assert keystone_error(ks_admin.request("PUT", no_project), 404) == f"Could not find project: {missing}."
    assert keystone_error(ks_admin.request("GET", f"/projects/{missing}/users/{account.user_id}/roles"), 404)


def test_a_member_may_not_grant(server: RunningServer, ks_demo: Keystone, ks_admin: Keystone, account: Account) -> None:
    admin_role = role_id(ks_admin, "admin")
    demo_user = ks_admin.ok("GET", "/users", params={"name": "demo"})["users"][0]["id"]
    demo_project = ks_admin.ok("GET", "/projects", params={"name": "demo"})["projects"][0]["id"]
    path = f"/projects/{demo_project}/users/{demo_user}/roles/{admin_role}"

    assert "identity:create_grant" in keystone_error(ks_demo.request("PUT", path), 403)
    assert ks_demo.request("HEAD", path).status_code == 403
    assert "identity:list_grants" in keystone_error(
        ks_demo.request("GET", f"/projects/{demo_project}/users/{demo_user}/roles"), 403
    )
    assert ks_admin.request("HEAD", path).status_code == 404
    assert token_for(server.url, "demo", DEMO_PASSWORD, "demo")  # demo is unchanged


def _login(account: Account) -> dict[str, object]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": account.user_id, "password": account.password}},
            },
            "scope": {"project": {"id": account.project_id}},
        }
    }

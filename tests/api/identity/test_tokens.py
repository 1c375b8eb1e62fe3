"""``/identity/v3/auth/tokens`` as Keystone answers it: issue, re-scope, validate, refuse."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from firebrick.clock import utcnow
from firebrick.domain.identity import TokenSigner, _b64
from firebrick.domain.identity.tokens import RETIRE_GRACE, ROTATE_AFTER
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, OTHER_PASSWORD, RunningServer, token_for

KEYSTONE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DENIED = "The request you have made requires authentication."


def password_body(
    password: str,
    *,
    user_name: str | None = None,
    user_id: str | None = None,
    project_name: str | None = None,
    project_id: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"password": password}
    if user_id:
        user["id"] = user_id
    else:
        user |= {"name": user_name, "domain": {"name": "Default"}}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if project_id:
        auth["scope"] = {"project": {"id": project_id}}
    elif project_name:
        auth["scope"] = {"project": {"name": project_name, "domain": {"id": "default"}}}
    return {"auth": auth}


def issue(server: RunningServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/identity/v3/auth/tokens", json=body)


def validate(server: RunningServer, auth_token: str, subject: str, method: str = "GET") -> httpx.Response:
    headers = {"X-Auth-Token": auth_token, "X-Subject-Token": subject}
    return httpx.request(method, f"{server.url}/identity/v3/auth/tokens", headers=headers)


def keystone_datetime(value: str) -> datetime:
    assert KEYSTONE_TIME.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def ids(server: RunningServer, user: str, project: str) -> tuple[str, str]:
    repo = server.node.repos.identity
    found_user, found_project = repo.user(name=user), repo.project(name=project)
    assert found_user is not None and found_project is not None
    return found_user.id, found_project.id


def signer(server: RunningServer) -> TokenSigner:
    """A signer over the server's own keys (as another worker would be): tokens it makes are genuine."""
    return TokenSigner(server.node.repos.token_keys, server.settings.token_ttl)


def signed_with(token: str, secret: bytes) -> str:
    """The token's kid and claims under a signature made with ``secret``, not the key's."""
    signed = token.rpartition(".")[0]
    return f"{signed}.{_b64.encode(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def assert_unauthorized(server: RunningServer, response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": {"code": 401, "message": DENIED, "title": "Unauthorized"}}
    assert response.headers["www-authenticate"] == f'Keystone uri="{server.url}/identity"'
    assert "x-subject-token" not in response.headers


# --- issuing -------------------------------------------------------------------------------------


def test_password_by_name_scoped_by_project_name_is_a_full_keystone_token(server: RunningServer) -> None:
    user_id, project_id = ids(server, "demo", "demo")
    before = utcnow().replace(microsecond=0)
    response = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))

    assert response.status_code == 201, response.text
    assert response.headers["x-subject-token"]
    assert response.headers["content-type"].startswith("application/json")
    token = response.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["id"] == user_id and token["user"]["name"] == "demo"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"] == {"id": project_id, "name": "demo", "domain": {"id": "default", "name": "Default"}}
    assert {role["name"] for role in token["roles"]} == {"member", "reader"}
    assert all(len(role["id"]) == 32 for role in token["roles"])
    assert token["audit_ids"] and all(isinstance(a, str) and a for a in token["audit_ids"])
    issued, expires = keystone_datetime(token["issued_at"]), keystone_datetime(token["expires_at"])
    assert before <= issued <= utcnow()
    assert expires - issued == timedelta(seconds=server.settings.token_ttl)


def test_catalog_points_block_storage_at_the_scoped_project(server: RunningServer) -> None:
    _, project_id = ids(server, "demo", "demo")
    response = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))
    catalog = {entry["type"]: entry for entry in response.json()["token"]["catalog"]}

    assert {"identity", "block-storage", "volumev3"} <= set(catalog)
    for service_type in ("block-storage", "volumev3"):
        endpoints = {e["interface"]: e for e in catalog[service_type]["endpoints"]}
        assert set(endpoints) == {"public", "internal", "admin"}
        public = endpoints["public"]
        assert public["url"] == f"{server.url}/volume/v3/{project_id}"
        assert public["url"].endswith(f"/volume/v3/{project_id}")
        assert public["region_id"] == public["region"] == server.settings.region
    assert catalog["identity"]["endpoints"][0]["url"] == f"{server.url}/identity"
    # Reading the volume API through the catalog URL works with the token.
    volume_url = next(e["url"] for e in catalog["block-storage"]["endpoints"] if e["interface"] == "public")
    listed = httpx.get(f"{volume_url}/volumes", headers={"X-Auth-Token": response.headers["x-subject-token"]})
    assert listed.status_code == 200 and "volumes" in listed.json()


def test_password_by_user_id_scoped_by_project_id(server: RunningServer) -> None:
    user_id, project_id = ids(server, "other", "other")
    response = issue(server, password_body(OTHER_PASSWORD, user_id=user_id, project_id=project_id))

    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token["user"]["id"] == user_id and token["user"]["name"] == "other"
    assert token["project"]["id"] == project_id and token["project"]["name"] == "other"


def test_no_scope_takes_the_default_project(server: RunningServer) -> None:
    _, project_id = ids(server, "demo", "demo")
    response = issue(server, password_body(DEMO_PASSWORD, user_name="demo"))

    assert response.status_code == 201, response.text
    assert response.json()["token"]["project"]["id"] == project_id


def test_admin_roles_include_the_implied_ones(server: RunningServer) -> None:
    response = issue(server, password_body(ADMIN_PASSWORD, user_name="admin", project_name="admin"))

    assert response.status_code == 201, response.text
    assert {role["name"] for role in response.json()["token"]["roles"]} == {"admin", "member", "reader"}


def test_each_token_is_distinct(server: RunningServer) -> None:
    first = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))
    second = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))

    assert first.headers["x-subject-token"] != second.headers["x-subject-token"]
    assert first.json()["token"]["audit_ids"] != second.json()["token"]["audit_ids"]


# --- refusing ------------------------------------------------------------------------------------


def test_wrong_password_is_401_with_keystone_error_and_challenge(server: RunningServer) -> None:
    response = issue(server, password_body("not-" + DEMO_PASSWORD, user_name="demo", project_name="demo"))
    assert_unauthorized(server, response)


def test_unknown_user_is_401(server: RunningServer) -> None:
    unknown_name = password_body(DEMO_PASSWORD, user_name="nobody-at-all", project_name="demo")
    assert_unauthorized(server, issue(server, unknown_name))
    assert_unauthorized(server, issue(server, password_body(DEMO_PASSWORD, user_id="0" * 32, project_name="demo")))


def test_project_without_a_role_is_401(server: RunningServer) -> None:
    _, admin_project = ids(server, "admin", "admin")
    assert_unauthorized(server, issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="admin")))
    assert_unauthorized(server, issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_id=admin_project)))


def test_unknown_project_is_401(server: RunningServer) -> None:
    body = password_body(DEMO_PASSWORD, user_name="demo", project_name="no-such-project")
    assert_unauthorized(server, issue(server, body))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": {}},
        {"auth": {"identity": {"methods": []}}},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo"}}}}},
    ],
    ids=["empty", "no-identity", "no-methods", "method-without-credentials", "no-password"],
)
def test_malformed_auth_request_is_400(server: RunningServer, body: dict[str, Any]) -> None:
    response = issue(server, body)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == 400
    assert response.json()["error"]["title"] == "Bad Request"


def test_body_that_is_not_json_is_400(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/identity/v3/auth/tokens", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


# --- re-scoping with the token method ------------------------------------------------------------


def test_token_method_rescopes_and_keeps_the_expiry(server: RunningServer) -> None:
    first = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))
    original = first.json()["token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": first.headers["x-subject-token"]}},
            "scope": {"project": {"id": original["project"]["id"]}},
        }
    }

    response = issue(server, body)

    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert response.headers["x-subject-token"] != first.headers["x-subject-token"]
    assert token["expires_at"] == original["expires_at"]
    assert set(token["methods"]) == {"password", "token"}
    assert token["user"]["id"] == original["user"]["id"]
    assert token["project"] == original["project"]
    # The new token works on its own.
    check = validate(server, response.headers["x-subject-token"], response.headers["x-subject-token"])
    assert check.status_code == 200 and check.json()["token"]["expires_at"] == original["expires_at"]


def test_token_method_cannot_reach_a_project_without_a_role(server: RunningServer) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }

    assert_unauthorized(server, issue(server, body))


def test_token_method_with_an_expired_token_is_refused(server: RunningServer) -> None:
    user_id, project_id = ids(server, "demo", "demo")
    expired, _ = signer(server).issue(user_id, project_id, ("password",), utcnow() - timedelta(seconds=1))
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": expired}}}}

    response = issue(server, body)

    # Keystone itself answers 404 "Could not recognize Fernet token" here; 401 is as good for clients.
    assert response.status_code in (401, 404), response.text
    assert "x-subject-token" not in response.headers


# --- validating ----------------------------------------------------------------------------------


def test_validate_returns_the_same_token(server: RunningServer) -> None:
    issued = issue(server, password_body(DEMO_PASSWORD, user_name="demo", project_name="demo"))
    subject = issued.headers["x-subject-token"]
    admin_token = token_for(server.url, "admin", ADMIN_PASSWORD, "admin")

    response = validate(server, admin_token, subject)

    assert response.status_code == 200, response.text
    assert response.headers["x-subject-token"] == subject
    shown, original = response.json()["token"], issued.json()["token"]
    for key in ("methods", "user", "project", "expires_at", "issued_at", "audit_ids", "roles"):
        assert shown[key] == original[key], key
    assert {e["type"] for e in shown["catalog"]} == {e["type"] for e in original["catalog"]}


def test_head_validates_without_a_body(server: RunningServer) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")

    response = validate(server, token, token, method="HEAD")

    assert response.status_code == 200
    assert response.headers["x-subject-token"] == token
    assert response.content == b""


def test_validate_needs_both_tokens(server: RunningServer) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")

    no_subject = httpx.get(f"{server.url}/identity/v3/auth/tokens", headers={"X-Auth-Token": token})
    no_auth = httpx.get(f"{server.url}/identity/v3/auth/tokens", headers={"X-Subject-Token": token})

    assert no_subject.status_code == 404, no_subject.text
    assert no_subject.json()["error"]["code"] == 404
    assert_unauthorized(server, no_auth)


FORGERIES = ["garbage", "empty-signature", "flipped-signature", "other-key", "body-swapped", "truncated",
             "unknown-kid", "no-kid"]  # fmt: skip


def forged_tokens(server: RunningServer) -> dict[str, str]:
    user_id, project_id = ids(server, "admin", "admin")
    genuine = token_for(server.url, "demo", DEMO_PASSWORD, "demo")
    signed, _, signature = genuine.rpartition(".")
    kid, _, body = signed.partition(".")
    # Well-formed claims for the admin project under the server's kid, signed with another secret.
    admin_claims, _ = signer(server).issue(user_id, project_id, ("password",))
    other_key = signed_with(admin_claims, b"k" * 32)
    return {
        "garbage": "garbage",
        "empty-signature": signed + ".",
        "flipped-signature": signed + "." + ("A" if signature[0] != "A" else "B") + signature[1:],
        "other-key": other_key,
        # The admin claims under the signature of a genuine demo token.
        "body-swapped": other_key.rpartition(".")[0] + "." + signature,
        "truncated": genuine[:-4],
        "unknown-kid": signed_with(f"{int(kid) + 1000}.{body}.", b"k" * 32),
        # The format before keys were numbered (one key in data_dir/token.key).
        "no-kid": f"{body}.{signature}",
    }


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_subject_token_is_not_found(server: RunningServer, kind: str) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")

    response = validate(server, token, forged_tokens(server)[kind])

    # Keystone: an invalid subject token is 404 (TokenNotFound); the caller's own token was fine.
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == 404
    assert "x-subject-token" not in response.headers


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_auth_token_is_401(server: RunningServer, kind: str) -> None:
    forged = forged_tokens(server)[kind]
    genuine = token_for(server.url, "demo", DEMO_PASSWORD, "demo")

    assert_unauthorized(server, validate(server, forged, genuine))
    assert_unauthorized(server, httpx.get(f"{server.url}/identity/v3/auth/projects", headers={"X-Auth-Token": forged}))


def test_non_ascii_token_is_401_not_a_server_error(server: RunningServer) -> None:
    token = token_for(server.url, "demo", DEMO_PASSWORD, "demo")
    _, project_id = ids(server, "demo", "demo")
    weird = b"abc.\xe9\xe9"

    as_auth = httpx.get(f"{server.url}/identity/v3/auth/projects", headers=[(b"X-Auth-Token", weird)])
    as_volume_auth = httpx.get(f"{server.url}/volume/v3/{project_id}/volumes", headers=[(b"X-Auth-Token", weird)])
    as_subject = httpx.get(
        f"{server.url}/identity/v3/auth/tokens",
        headers=[(b"X-Auth-Token", token.encode()), (b"X-Subject-Token", weird)],
    )

    assert_unauthorized(server, as_auth)
    assert as_volume_auth.status_code == 401, as_volume_auth.text
    assert as_subject.status_code == 404, as_subject.text


def test_expired_token_is_401_everywhere(server: RunningServer) -> None:
    user_id, project_id = ids(server, "demo", "demo")
    expired, claims = signer(server).issue(user_id, project_id, ("password",), utcnow() - timedelta(seconds=1))
    fresh, _ = signer(server).issue(user_id, project_id, ("password",))
    # The same key, so only the expiry separates the two.
    assert httpx.get(f"{server.url}/identity/v3/auth/projects", headers={"X-Auth-Token": fresh}).status_code == 200

    assert_unauthorized(server, httpx.get(f"{server.url}/identity/v3/auth/projects", headers={"X-Auth-Token": expired}))
    assert_unauthorized(server, validate(server, expired, fresh))
    volumes = httpx.get(f"{server.url}/volume/v3/{project_id}/volumes", headers={"X-Auth-Token": expired})
    assert volumes.status_code == 401
    assert volumes.headers["www-authenticate"] == f'Keystone uri="{server.url}/identity"'
    assert validate(server, fresh, expired).status_code == 404
    assert claims.expires_at < utcnow()


# --- signing keys --------------------------------------------------------------------------------


def test_a_key_rotated_by_another_worker_signs_and_the_retired_keys_tokens_are_401(
    server_factory: Callable[..., RunningServer],
) -> None:
    private = server_factory()
    user_id, project_id = ids(private, "demo", "demo")
    before = token_for(private.url, "demo", DEMO_PASSWORD, "demo")  # key 1; the server has not checked it yet
    # Another worker over the same database, a day on: it makes key 2; a TTL later it deletes key 1.
    now = utcnow()
    clock = [now + ROTATE_AFTER]
    worker = TokenSigner(private.node.repos.token_keys, private.settings.token_ttl, lambda: clock[0])
    worker.issue(user_id, project_id, ("password",))
    clock[0] += timedelta(seconds=private.settings.token_ttl) + RETIRE_GRACE
    after, _ = worker.issue(user_id, project_id, ("password",), expires_at=now + timedelta(hours=1))
    assert [key.kid for key in private.node.repos.token_keys.all()] == [2]

    def projects(token: str) -> httpx.Response:
        return httpx.get(f"{private.url}/identity/v3/auth/projects", headers={"X-Auth-Token": token})

    # The server had only read key 1: a token naming key 2 makes it read the keys again.
    assert projects(after).status_code == 200
    assert_unauthorized(private, projects(before))
    volumes = httpx.get(f"{private.url}/volume/v3/{project_id}/volumes", headers={"X-Auth-Token": before})
    assert volumes.status_code == 401
    assert token_for(private.url, "demo", DEMO_PASSWORD, "demo").startswith("2.")


# --- versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/identity", "/identity/"])
def test_identity_root_lists_v3_with_300(server: RunningServer, path: str) -> None:
    response = httpx.get(server.url + path)

    assert response.status_code == 300
    values = response.json()["versions"]["values"]
    assert len(values) == 1
    version = values[0]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert {"rel": "self", "href": f"{server.url}/identity/v3/"} in version["links"]
    assert version["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"


@pytest.mark.parametrize("path", ["/identity/v3", "/identity/v3/"])
def test_identity_v3_document(server: RunningServer, path: str) -> None:
    response = httpx.get(server.url + path)

    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert version["updated"].endswith("Z")
    assert version["links"][0]["href"] == f"{server.url}/identity/v3/"


@pytest.mark.parametrize(
    "domain",
    [{"name": "NoSuchDomain"}, {"id": "nosuchdomain"}],
    ids=["by-name", "by-id"],
)
def test_user_in_an_unknown_domain_is_401(server: RunningServer, domain: dict[str, str]) -> None:
    body = password_body(DEMO_PASSWORD, user_name="demo", project_name="demo")
    body["auth"]["identity"]["password"]["user"]["domain"] = domain

    assert_unauthorized(server, issue(server, body))


def test_project_in_an_unknown_domain_is_401(server: RunningServer) -> None:
    body = password_body(DEMO_PASSWORD, user_name="demo", project_name="demo")
    body["auth"]["scope"]["project"]["domain"] = {"name": "NoSuchDomain"}

    assert_unauthorized(server, issue(server, body))


@pytest.mark.parametrize("domain", [{"name": "Default"}, {"id": "default"}], ids=["name", "id"])
def test_default_domain_may_be_named_either_way(server: RunningServer, domain: dict[str, str]) -> None:
    body = password_body(DEMO_PASSWORD, user_name="demo", project_name="demo")
    body["auth"]["identity"]["password"]["user"]["domain"] = domain
    body["auth"]["scope"]["project"]["domain"] = domain

    assert issue(server, body).status_code == 201

"""``/identity/v3/role_assignments``: filters, names, effective (implied) roles, Keystone's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.identity._helpers import Account, Keystone, discard, keystone_error, provision, role_id
from tests.conftest import RunningServer


@pytest.fixture
def an_admin(ks_admin: Keystone) -> Iterator[Account]:
    made = provision(ks_admin, "admin")
    yield made
    discard(ks_admin, made)


def listing(admin: Keystone, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.ok("GET", "/role_assignments", params=params)["role_assignments"]
    return found


def test_one_users_assignments(server: RunningServer, ks_admin: Keystone, account: Account) -> None:
    member = role_id(ks_admin, "member")

    found = listing(ks_admin, **{"user.id": account.user_id})

    base = f"{server.url}/identity/v3"
    assert found == [
        {
            "role": {"id": member},
            "user": {"id": account.user_id},
            "scope": {"project": {"id": account.project_id}},
            "links": {"assignment": f"{base}/projects/{account.project_id}/users/{account.user_id}/roles/{member}"},
        }
    ]
    assert listing(ks_admin, **{"scope.project.id": account.project_id}) == found
    both = {"user.id": account.user_id, "scope.project.id": account.project_id, "role.id": member}
    assert listing(ks_admin, **both) == found
    assert listing(ks_admin, **{"user.id": account.user_id, "role.id": role_id(ks_admin, "admin")}) == []


def test_include_names(ks_admin: Keystone, account: Account) -> None:
    found = listing(ks_admin, **{"user.id": account.user_id, "include_names": "True"})

    domain = {"id": "default", "name": "Default"}
    assert len(found) == 1
    assert found[0]["role"] == {"id": role_id(ks_admin, "member"), "name": "member"}
    assert found[0]["user"] == {"id": account.user_id, "name": account.user_name, "domain": domain}
    assert found[0]["scope"] == {"project": {"id": account.project_id, "name": account.project_name, "domain": domain}}
    # As Keystone reads flags: present and not "0" is true.
    assert "name" not in listing(ks_admin, **{"user.id": account.user_id, "include_names": "0"})[0]["role"]


def test_effective_adds_the_implied_roles(server: RunningServer, ks_admin: Keystone, an_admin: Account) -> None:
    admin, member, reader = (role_id(ks_admin, name) for name in ("admin", "member", "reader"))

    direct = listing(ks_admin, **{"user.id": an_admin.user_id})
    effective = listing(ks_admin, **{"user.id": an_admin.user_id, "effective": ""})

    assert [a["role"] for a in direct] == [{"id": admin}]
    assert sorted(str(a["role"]["id"]) for a in effective) == sorted([admin, member, reader])
    grant = f"{server.url}/identity/v3/projects/{an_admin.project_id}/users/{an_admin.user_id}/roles/{admin}"
    implied = [a for a in effective if a["role"] != {"id": admin}]
    assert all(a["links"]["assignment"] == grant for a in implied)
    assert {a["links"]["prior_role"] for a in implied} == {
        f"{server.url}/identity/v3/prior_role/{admin}/implies/{member}",
        f"{server.url}/identity/v3/prior_role/{admin}/implies/{reader}",
    }
    # The role filter applies after expansion: an admin effectively holds reader.
    readers = listing(ks_admin, **{"scope.project.id": an_admin.project_id, "role.id": reader, "effective": "1"})
    assert [a["user"] for a in readers] == [{"id": an_admin.user_id}]
    assert listing(ks_admin, **{"scope.project.id": an_admin.project_id, "role.id": reader}) == []


def test_filters_on_what_firebrick_lacks_find_nothing(ks_admin: Keystone, account: Account) -> None:
    for name in ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to"):
        assert listing(ks_admin, **{name: "x"}) == []
    subtree = listing(ks_admin, **{"scope.project.id": account.project_id, "include_subtree": "True"})
    assert [a["user"] for a in subtree] == [{"id": account.user_id}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scope.domain.id": "default", "scope.project.id": "p"}, "Specify a domain or project, not both"),
        ({"user.id": "u", "group.id": "g"}, "Specify a user or group, not both"),
        ({"scope.system": "all", "scope.project.id": "p"}, "Specify system or project, not both"),
        ({"effective": "True", "group.id": "g"}, "Combining effective and group filter"),
        ({"include_subtree": "True"}, "scope.project.id must be specified if include_subtree"),
    ],
)
def test_keystones_refusals(ks_admin: Keystone, params: dict[str, str], message: str) -> None:
    assert message in keystone_error(ks_admin.request("GET", "/role_assignments", params=params), 400)


def test_only_an_admin_lists_assignments(ks_demo: Keystone) -> None:
    assert "identity:list_role_assignments" in keystone_error(ks_demo.request("GET", "/role_assignments"), 403)

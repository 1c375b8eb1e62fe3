"""``/identity/v3/domains``: the one domain, listed for an admin."""

from __future__ import annotations

from tests.api.identity._helpers import Keystone, keystone_error


def test_domains_list_is_the_default_domain_for_an_admin(ks_admin: Keystone, ks_demo: Keystone) -> None:
    listed = ks_admin.request("GET", "/domains")

    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()["domains"]] == ["default"]
    assert [d["id"] for d in ks_admin.ok("GET", "/domains", params={"name": "Default"})["domains"]] == ["default"]
    assert ks_admin.ok("GET", "/domains", params={"name": "Other"})["domains"] == []
    assert "identity:list_domains" in keystone_error(ks_demo.request("GET", "/domains"), 403)
    assert keystone_error(ks_demo.request("GET", "/domains/nope"), 404) == "Could not find domain: nope."

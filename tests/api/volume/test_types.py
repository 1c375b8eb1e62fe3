"""``/types`` and ``/types/{id}/extra_specs``: admin writes, everyone reads (user-visible specs only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.volume._helpers import MISSING_ID, create_volume, delete_volume, fault, unique
from tests.conftest import ApiClient

CREATE_KEYS = {"id", "name", "is_public", "description", "extra_specs", "os-volume-type-access:is_public"}
ADMIN_KEYS = CREATE_KEYS | {"qos_specs_id"}
SPECS = {
    "volume_backend_name": "file",
    "multiattach": "<is> False",
    "secret:thing": "hidden",
    "replication_enabled": "<is> False",
}
VISIBLE_SPECS = {"multiattach": "<is> False", "replication_enabled": "<is> False"}


@pytest.fixture
def volume_type(admin: ApiClient) -> Iterator[dict[str, Any]]:
    response = admin.volume(
        "POST", "/types", json={"volume_type": {"name": unique("type"), "description": "d", "extra_specs": SPECS}}
    )
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["volume_type"]
    yield created
    admin.volume("DELETE", f"/types/{created['id']}")


@pytest.fixture
def private_type(admin: ApiClient) -> Iterator[dict[str, Any]]:
    body = {"volume_type": {"name": unique("private"), "os-volume-type-access:is_public": False}}
    response = admin.volume("POST", "/types", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["volume_type"]
    yield created
    admin.volume("DELETE", f"/types/{created['id']}")


def type_names(client: ApiClient) -> list[str]:
    response = client.volume("GET", "/types")
    assert response.status_code == 200
    return [t["name"] for t in response.json()["volume_types"]]


# --- create --------------------------------------------------------------------------------------


def test_admin_create_is_200_without_qos_specs_id(admin: ApiClient) -> None:
    name = unique("type")
    response = admin.volume("POST", "/types", json={"volume_type": {"name": name, "extra_specs": {"k": "v"}}})
    assert response.status_code == 200
    created = response.json()["volume_type"]
    assert set(created) == CREATE_KEYS
    assert (created["name"], created["is_public"], created["os-volume-type-access:is_public"]) == (name, True, True)
    assert created["description"] is None
    assert created["extra_specs"] == {"k": "v"}
    assert admin.volume("DELETE", f"/types/{created['id']}").status_code == 202


def test_duplicate_name_is_409(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    response = admin.volume("POST", "/types", json={"volume_type": {"name": volume_type["name"]}})
    assert response.status_code == 409
    assert response.json() == {
        "conflictingRequest": {"code": 409, "message": f"Volume Type {volume_type['name']} already exists."}
    }
    assert type_names(admin).count(volume_type["name"]) == 1


@pytest.mark.parametrize("client_name", ["demo", "reader"])
def test_non_admin_create_is_403(request: pytest.FixtureRequest, admin: ApiClient, client_name: str) -> None:
    client: ApiClient = request.getfixturevalue(client_name)
    name = unique("type")
    response = client.volume("POST", "/types", json={"volume_type": {"name": name}})
    assert fault(response, 403) == "Policy doesn't allow volume_extension:types_manage to be performed."
    assert name not in type_names(admin)


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"name": ""},
        {"name": "x" * 256},
        {"name": 5},
        {"name": "ok", "extra_specs": {"k": 1}},
        {"name": "ok", "extra_specs": {"bad!key": "v"}},
        {"name": "ok", "bogus": True},
        {"name": "ok", "os-volume-type-access:is_public": "maybe"},
    ],
)
def test_bad_create_is_400_and_creates_nothing(admin: ApiClient, spec: dict[str, Any]) -> None:
    before = type_names(admin)
    fault(admin.volume("POST", "/types", json={"volume_type": spec}), 400)
    assert type_names(admin) == before


def test_create_with_malformed_json_is_400(admin: ApiClient) -> None:
    response = admin.volume("POST", "/types", content=b"{'volume_type'", headers={"Content-Type": "application/json"})
    assert fault(response, 400) == "Malformed request body"


# --- read ----------------------------------------------------------------------------------------


def test_show_as_admin_and_member(admin: ApiClient, demo: ApiClient, volume_type: dict[str, Any]) -> None:
    as_admin = admin.volume("GET", f"/types/{volume_type['id']}").json()["volume_type"]
    assert set(as_admin) == ADMIN_KEYS
    assert as_admin["extra_specs"] == SPECS
    as_member = demo.volume("GET", f"/types/{volume_type['id']}")
    assert as_member.status_code == 200
    shown = as_member.json()["volume_type"]
    assert set(shown) == CREATE_KEYS
    assert shown["extra_specs"] == VISIBLE_SPECS


def test_list_as_admin_and_member(admin: ApiClient, demo: ApiClient, volume_type: dict[str, Any]) -> None:
    admin_items = {t["name"]: t for t in admin.volume("GET", "/types").json()["volume_types"]}
    member_items = {t["name"]: t for t in demo.volume("GET", "/types").json()["volume_types"]}
    assert {"__DEFAULT__", volume_type["name"]} <= set(admin_items) & set(member_items)
    assert all(set(t) == ADMIN_KEYS for t in admin_items.values())
    assert all(set(t) == CREATE_KEYS for t in member_items.values())
    assert member_items[volume_type["name"]]["extra_specs"] == VISIBLE_SPECS
    assert admin_items[volume_type["name"]]["extra_specs"] == SPECS


def test_unknown_type_is_404(demo: ApiClient) -> None:
    assert fault(demo.volume("GET", f"/types/{MISSING_ID}"), 404) == f"Volume type {MISSING_ID} could not be found."


def test_default_type(demo: ApiClient) -> None:
    response = demo.volume("GET", "/types/default")
    assert response.status_code == 200
    default = response.json()["volume_type"]
    assert default["name"] == "__DEFAULT__"
    assert set(default) == {"id", "name", "is_public", "description", "extra_specs"}
    assert demo.volume("GET", f"/types/{default['id']}").json()["volume_type"]["name"] == "__DEFAULT__"


def test_new_volumes_get_the_default_type(demo: ApiClient) -> None:
    volume = create_volume(demo)
    assert volume["volume_type"] == "__DEFAULT__"
    delete_volume(demo, volume["id"])


def test_private_type_is_hidden_from_members(admin: ApiClient, demo: ApiClient, private_type: dict[str, Any]) -> None:
    assert private_type["is_public"] is False
    assert private_type["name"] in type_names(admin)
    assert private_type["name"] not in type_names(demo)
    assert (
        fault(demo.volume("GET", f"/types/{private_type['id']}"), 404)
        == f"Volume type {private_type['id']} could not be found."
    )


def test_member_cannot_create_a_volume_of_a_private_type(demo: ApiClient, private_type: dict[str, Any]) -> None:
    name = unique()
    response = demo.volume(
        "POST", "/volumes", json={"volume": {"size": 1, "name": name, "volume_type": private_type["name"]}}
    )
    assert fault(response, 404) == f"Volume type with name {private_type['name']} could not be found."
    assert demo.volume("GET", f"/volumes?name={name}").json()["volumes"] == []


def test_admin_can_create_a_volume_of_a_private_type(admin: ApiClient, private_type: dict[str, Any]) -> None:
    volume = create_volume(admin, volume_type=private_type["id"])
    assert volume["volume_type"] == private_type["name"]
    delete_volume(admin, volume["id"])


# --- update --------------------------------------------------------------------------------------


def test_update_name_description_and_visibility(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    new_name = unique("renamed")
    body = {"volume_type": {"name": new_name, "description": "new", "is_public": False}}
    response = admin.volume("PUT", f"/types/{volume_type['id']}", json=body)
    assert response.status_code == 200
    updated = response.json()["volume_type"]
    assert (updated["name"], updated["description"], updated["is_public"]) == (new_name, "new", False)
    shown = admin.volume("GET", f"/types/{volume_type['id']}").json()["volume_type"]
    assert (shown["name"], shown["description"], shown["is_public"]) == (new_name, "new", False)


def test_empty_update_is_400(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    assert fault(admin.volume("PUT", f"/types/{volume_type['id']}", json={"volume_type": {}}), 400) == (
        "Specify volume type name, description, is_public or a combination thereof."
    )


def test_rename_to_a_taken_name_is_409(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    response = admin.volume("PUT", f"/types/{volume_type['id']}", json={"volume_type": {"name": "__DEFAULT__"}})
    assert fault(response, 409) == "Volume Type __DEFAULT__ already exists."
    assert admin.volume("GET", f"/types/{volume_type['id']}").json()["volume_type"]["name"] == volume_type["name"]


def test_default_type_cannot_be_renamed(admin: ApiClient) -> None:
    default = admin.volume("GET", "/types/default").json()["volume_type"]
    fault(admin.volume("PUT", f"/types/{default['id']}", json={"volume_type": {"name": unique()}}), 400)
    assert admin.volume("GET", "/types/default").json()["volume_type"]["name"] == "__DEFAULT__"


def test_member_update_is_403(demo: ApiClient, admin: ApiClient, volume_type: dict[str, Any]) -> None:
    response = demo.volume("PUT", f"/types/{volume_type['id']}", json={"volume_type": {"description": "mine"}})
    assert fault(response, 403) == "Policy doesn't allow volume_extension:types_manage to be performed."
    assert admin.volume("GET", f"/types/{volume_type['id']}").json()["volume_type"]["description"] == "d"


def test_update_unknown_type_is_404(admin: ApiClient) -> None:
    fault(admin.volume("PUT", f"/types/{MISSING_ID}", json={"volume_type": {"description": "x"}}), 404)


# --- delete --------------------------------------------------------------------------------------


def test_delete_is_202_then_404(admin: ApiClient) -> None:
    created = admin.volume("POST", "/types", json={"volume_type": {"name": unique("type")}}).json()["volume_type"]
    response = admin.volume("DELETE", f"/types/{created['id']}")
    assert response.status_code == 202
    assert response.content == b""
    assert (
        fault(admin.volume("GET", f"/types/{created['id']}"), 404) == f"Volume type {created['id']} could not be found."
    )
    assert created["name"] not in type_names(admin)
    fault(admin.volume("DELETE", f"/types/{created['id']}"), 404)


def test_delete_of_a_type_in_use_is_400(admin: ApiClient, demo: ApiClient, volume_type: dict[str, Any]) -> None:
    volume = create_volume(demo, volume_type=volume_type["name"])
    assert fault(admin.volume("DELETE", f"/types/{volume_type['id']}"), 400) == "Target volume type is still in use."
    assert admin.volume("GET", f"/types/{volume_type['id']}").status_code == 200
    delete_volume(demo, volume["id"])
    assert admin.volume("DELETE", f"/types/{volume_type['id']}").status_code == 202


def test_default_type_cannot_be_deleted(admin: ApiClient) -> None:
    default = admin.volume("GET", "/types/default").json()["volume_type"]
    assert fault(admin.volume("DELETE", f"/types/{default['id']}"), 400) == "Default volume type can not be deleted."


def test_member_delete_is_403(demo: ApiClient, admin: ApiClient, volume_type: dict[str, Any]) -> None:
    fault(demo.volume("DELETE", f"/types/{volume_type['id']}"), 403)
    assert admin.volume("GET", f"/types/{volume_type['id']}").status_code == 200


# --- extra specs ---------------------------------------------------------------------------------


def test_extra_specs_crud(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    path = f"/types/{volume_type['id']}/extra_specs"
    assert admin.volume("GET", path).json() == {"extra_specs": SPECS}

    merged = admin.volume("POST", path, json={"extra_specs": {"new": "1", "multiattach": "<is> True"}})
    assert merged.status_code == 200
    assert merged.json() == {"extra_specs": {"new": "1", "multiattach": "<is> True"}}
    assert admin.volume("GET", path).json() == {"extra_specs": {**SPECS, "new": "1", "multiattach": "<is> True"}}

    shown = admin.volume("GET", f"{path}/new")
    assert shown.status_code == 200
    assert shown.json() == {"new": "1"}

    put = admin.volume("PUT", f"{path}/new", json={"new": "2"})
    assert put.status_code == 200
    assert put.json() == {"new": "2"}
    assert admin.volume("GET", f"{path}/new").json() == {"new": "2"}

    deleted = admin.volume("DELETE", f"{path}/new")
    assert deleted.status_code == 202
    assert (
        fault(admin.volume("GET", f"{path}/new"), 404)
        == f"Volume Type {volume_type['id']} has no extra specs with key new."
    )
    assert "new" not in admin.volume("GET", path).json()["extra_specs"]
    fault(admin.volume("DELETE", f"{path}/new"), 404)


def test_extra_spec_put_errors(admin: ApiClient, volume_type: dict[str, Any]) -> None:
    path = f"/types/{volume_type['id']}/extra_specs"
    assert fault(admin.volume("PUT", f"{path}/a", json={"b": "1"}), 400) == "Request body and URI mismatch"
    fault(admin.volume("PUT", f"{path}/a", json={"a": "1", "b": "2"}), 400)
    fault(admin.volume("PUT", f"{path}/a", json={"a": 1}), 400)
    fault(admin.volume("POST", path, json={"extra_specs": {"a": 1}}), 400)
    fault(admin.volume("POST", path, json={"specs": {"a": "1"}}), 400)
    assert admin.volume("GET", path).json() == {"extra_specs": SPECS}


def test_extra_specs_of_an_unknown_type_are_404(admin: ApiClient) -> None:
    fault(admin.volume("GET", f"/types/{MISSING_ID}/extra_specs"), 404)
    fault(admin.volume("POST", f"/types/{MISSING_ID}/extra_specs", json={"extra_specs": {"a": "1"}}), 404)


def test_member_sees_only_user_visible_extra_specs(demo: ApiClient, volume_type: dict[str, Any]) -> None:
    path = f"/types/{volume_type['id']}/extra_specs"
    response = demo.volume("GET", path)
    assert response.status_code == 200
    assert response.json() == {"extra_specs": VISIBLE_SPECS}
    assert fault(demo.volume("GET", f"{path}/secret:thing"), 403) == (
        "Policy doesn't allow volume_extension:types_extra_specs:show to be performed."
    )


def test_member_cannot_write_extra_specs(demo: ApiClient, admin: ApiClient, volume_type: dict[str, Any]) -> None:
    path = f"/types/{volume_type['id']}/extra_specs"
    fault(demo.volume("POST", path, json={"extra_specs": {"a": "1"}}), 403)
    fault(demo.volume("PUT", f"{path}/multiattach", json={"multiattach": "<is> True"}), 403)
    fault(demo.volume("DELETE", f"{path}/multiattach"), 403)
    assert admin.volume("GET", path).json() == {"extra_specs": SPECS}

"""Version documents, microversion negotiation, and the headers every response carries."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.volume._helpers import MISSING_ID, fault
from tests.conftest import ApiClient, RunningServer

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
VERSION_KEYS = {"id", "status", "version", "min_version", "updated", "links", "media-types"}


def _check_version_document(server: RunningServer, body: dict[str, object]) -> None:
    assert list(body) == ["versions"]
    versions = body["versions"]
    assert isinstance(versions, list) and len(versions) == 1
    doc = versions[0]
    assert set(doc) == VERSION_KEYS
    assert doc["id"] == "v3.0"
    assert doc["status"] == "CURRENT"
    assert doc["version"] == "3.71"
    assert doc["min_version"] == "3.0"
    assert doc["updated"] == "2023-08-31T00:00:00Z"
    assert doc["links"] == [
        {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        {"rel": "self", "href": f"{server.url}/volume/v3/"},
    ]
    assert doc["media-types"] == [
        {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
    ]


def test_root_version_document_is_300_without_a_token(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/volume/")
    assert response.status_code == 300
    _check_version_document(server, response.json())


def test_bare_prefix_serves_the_version_document(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/volume")
    assert response.status_code == 300
    _check_version_document(server, response.json())


@pytest.mark.parametrize("path", ["/volume/v3/", "/volume/v3"])
def test_v3_version_document_is_200(server: RunningServer, demo: ApiClient, path: str) -> None:
    response = demo.http.get(path)
    assert response.status_code == 200
    _check_version_document(server, response.json())


def test_no_header_means_3_0(demo: ApiClient) -> None:
    response = demo.volume("GET", "/volumes")
    assert response.status_code == 200
    assert response.headers["openstack-api-version"] == "volume 3.0"
    assert response.headers["vary"] == "OpenStack-API-Version"


def test_latest_means_3_71(demo: ApiClient) -> None:
    response = demo.volume("GET", "/volumes", version="latest")
    assert response.status_code == 200
    assert response.headers["openstack-api-version"] == "volume 3.71"
    assert response.headers["vary"] == "OpenStack-API-Version"


@pytest.mark.parametrize("version", ["3.0", "3.12", "3.45", "3.71"])
def test_requested_version_is_echoed(demo: ApiClient, version: str) -> None:
    response = demo.volume("GET", "/volumes", version=version)
    assert response.status_code == 200
    assert response.headers["openstack-api-version"] == f"volume {version}"


def test_volume_entry_is_picked_from_a_list_of_services(demo: ApiClient) -> None:
    headers = {"OpenStack-API-Version": "compute 2.90, volume 3.45"}
    response = demo.volume("GET", "/volumes", headers=headers)
    assert response.status_code == 200
    assert response.headers["openstack-api-version"] == "volume 3.45"


def test_a_header_naming_only_other_services_is_400(demo: ApiClient) -> None:
    response = demo.volume("GET", "/volumes", headers={"OpenStack-API-Version": "compute 2.90"})
    assert fault(response, 400) == "API version compute 2.90 is not supported on this method."


def test_version_above_maximum_is_406_with_cinders_message(demo: ApiClient) -> None:
    response = demo.volume("GET", "/volumes?limit=1", version="3.99")
    assert response.status_code == 406
    assert response.json() == {
        "computeFault": {
            "code": 406,
            "message": "Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.71.",
        }
    }
    # Cinder echoes the version that was asked for, even on the 406 (sample 68).
    assert response.headers["openstack-api-version"] == "volume 3.99"
    assert response.headers["vary"] == "OpenStack-API-Version"


def test_version_below_minimum_is_406(demo: ApiClient) -> None:
    response = demo.volume("GET", "/volumes", version="2.0")
    assert response.status_code == 406
    assert response.json()["computeFault"]["message"] == (
        "Version 2.0 is not supported by the API. Minimum is 3.0 and maximum is 3.71."
    )


@pytest.mark.parametrize("value", ["bogus", "3", "3.x", "v3.1", "3.01"])
def test_malformed_version_is_400(demo: ApiClient, value: str) -> None:
    response = demo.volume("GET", "/volumes?limit=1", version=value)
    assert fault(response, 400) == (
        f"API Version String {value} is of invalid format. Must be of format MajorNum.MinorNum."
    )


def test_version_gated_route_is_404_below_its_version(demo: ApiClient) -> None:
    assert demo.volume("GET", "/volumes/summary", version="3.11").status_code == 404
    assert demo.volume("GET", "/volumes/summary", version="3.12").status_code == 200


def _assert_request_ids(response: httpx.Response) -> None:
    request_id = response.headers["x-openstack-request-id"]
    assert REQUEST_ID.match(request_id), request_id
    assert response.headers["x-compute-request-id"] == request_id


def test_request_id_on_success(demo: ApiClient) -> None:
    _assert_request_ids(demo.volume("GET", "/volumes"))


def test_request_ids_differ_per_request(demo: ApiClient) -> None:
    first = demo.volume("GET", "/volumes").headers["x-openstack-request-id"]
    second = demo.volume("GET", "/volumes").headers["x-openstack-request-id"]
    assert first != second


def test_request_id_and_version_headers_on_a_404_fault(demo: ApiClient) -> None:
    response = demo.volume("GET", f"/volumes/{MISSING_ID}", version="3.5")
    assert fault(response, 404) == f"Volume {MISSING_ID} could not be found."
    _assert_request_ids(response)
    assert response.headers["openstack-api-version"] == "volume 3.5"
    assert response.headers["vary"] == "OpenStack-API-Version"


def test_request_id_on_a_400_fault(demo: ApiClient) -> None:
    response = demo.volume("POST", "/volumes", content=b"{not json", headers={"Content-Type": "application/json"})
    fault(response, 400)
    _assert_request_ids(response)
    assert response.headers["openstack-api-version"] == "volume 3.0"


@pytest.mark.parametrize("version", ["3.99", "bogus"])
def test_request_id_on_version_faults(demo: ApiClient, version: str) -> None:
    _assert_request_ids(demo.volume("GET", "/volumes", version=version))


def test_request_id_on_401(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/volume/v3/volumes")
    fault(response, 401)
    _assert_request_ids(response)


def test_request_id_on_unknown_route_and_wrong_method(demo: ApiClient) -> None:
    missing = demo.volume("GET", "/no-such-collection")
    fault(missing, 404)
    _assert_request_ids(missing)
    wrong = demo.volume("PATCH", "/volumes")
    fault(wrong, 405)
    _assert_request_ids(wrong)


def test_request_id_on_version_documents(server: RunningServer) -> None:
    _assert_request_ids(httpx.get(f"{server.url}/volume/"))
    _assert_request_ids(httpx.get(f"{server.url}/"))

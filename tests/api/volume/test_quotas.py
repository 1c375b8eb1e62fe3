"""``/os-quota-sets`` and ``/limits``, and what going over a quota does (413, nothing created).

Every test works in a project of its own, so limits and usage are exactly known.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.volume._helpers import (
    create_snapshot,
    create_volume,
    delete_volume,
    fault,
    fresh_member,
    named,
    unique,
    volume_count,
)
from tests.conftest import ApiClient, RunningServer

DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "backups": 10,
    "backup_gigabytes": 1000,
    "groups": 10,
}


@pytest.fixture
def member(server: RunningServer) -> Iterator[ApiClient]:
    with fresh_member(server) as client:
        yield client


def set_quota(admin: ApiClient, project: str, **limits: int | str) -> dict[str, Any]:
    response = admin.volume("PUT", f"/os-quota-sets/{project}", json={"quota_set": limits})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["quota_set"]
    return body


def quota(client: ApiClient, project: str, usage: bool = False) -> dict[str, Any]:
    response = client.volume("GET", f"/os-quota-sets/{project}" + ("?usage=true" if usage else ""))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["quota_set"]
    return body


def over_limit(response: httpx.Response) -> str:
    message = fault(response, 413)
    assert response.json()["overLimit"]["retryAfter"] == "0"
    assert response.headers["retry-after"] == "0"
    return message


# --- quota sets ----------------------------------------------------------------------------------


def test_new_project_has_the_default_quotas(member: ApiClient) -> None:
    shown = quota(member, member.project_id)
    assert shown.pop("id") == member.project_id
    assert {k: shown[k] for k in DEFAULTS} == DEFAULTS
    assert shown["volumes___DEFAULT__"] == shown["gigabytes___DEFAULT__"] == shown["snapshots___DEFAULT__"] == -1


def test_defaults_endpoint(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=3)
    response = member.volume("GET", f"/os-quota-sets/{member.project_id}/defaults")
    assert response.status_code == 200
    defaults = response.json()["quota_set"]
    assert defaults["id"] == member.project_id
    assert {k: defaults[k] for k in DEFAULTS} == DEFAULTS


def test_usage_counts_volumes_and_snapshots(member: ApiClient) -> None:
    volume = create_volume(member, size=2)
    create_snapshot(member, volume["id"])
    shown = quota(member, member.project_id, usage=True)
    assert shown["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert shown["gigabytes"] == {"limit": 1000, "in_use": 4, "reserved": 0}
    assert shown["snapshots"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert shown["volumes___DEFAULT__"] == {"limit": -1, "in_use": 1, "reserved": 0}
    assert shown["gigabytes___DEFAULT__"]["in_use"] == 2


def test_admin_update_is_200_without_id(admin: ApiClient, member: ApiClient) -> None:
    updated = set_quota(admin, member.project_id, volumes=5, gigabytes=50, per_volume_gigabytes=20)
    assert "id" not in updated
    assert (updated["volumes"], updated["gigabytes"], updated["per_volume_gigabytes"]) == (5, 50, 20)
    assert updated["snapshots"] == 10
    shown = quota(member, member.project_id)
    assert (shown["volumes"], shown["gigabytes"], shown["per_volume_gigabytes"]) == (5, 50, 20)


def test_update_accepts_numeric_strings(admin: ApiClient, member: ApiClient) -> None:
    assert set_quota(admin, member.project_id, snapshots="7")["snapshots"] == 7


def test_member_update_is_403_and_changes_nothing(member: ApiClient) -> None:
    response = member.volume("PUT", f"/os-quota-sets/{member.project_id}", json={"quota_set": {"volumes": 1000}})
    assert fault(response, 403) == "Policy doesn't allow volume_extension:quotas:update to be performed."
    assert quota(member, member.project_id)["volumes"] == 10


def test_member_reset_is_403(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=4)
    fault(member.volume("DELETE", f"/os-quota-sets/{member.project_id}"), 403)
    assert quota(member, member.project_id)["volumes"] == 4


def test_member_cannot_read_another_projects_quota(member: ApiClient, demo: ApiClient) -> None:
    response = member.volume("GET", f"/os-quota-sets/{demo.project_id}")
    assert fault(response, 403) == "Policy doesn't allow volume_extension:quotas:show to be performed."


def test_admin_reads_any_projects_quota(admin: ApiClient, member: ApiClient) -> None:
    assert quota(admin, member.project_id)["id"] == member.project_id


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"bogus": 1}, "Bad key(s) bogus in quota set"),
        ({"volumes": -2}, None),
        ({"volumes": "abc"}, None),
        ({"volumes": 1.5}, None),
        ({"volumes": None}, None),
    ],
)
def test_bad_update_is_400_and_changes_nothing(
    admin: ApiClient, member: ApiClient, limits: dict[str, Any], message: str | None
) -> None:
    response = admin.volume("PUT", f"/os-quota-sets/{member.project_id}", json={"quota_set": limits})
    answered = fault(response, 400)
    if message is not None:
        assert answered == message
    assert {k: v for k, v in quota(member, member.project_id).items() if k in DEFAULTS} == DEFAULTS


def test_update_without_quota_set_is_400(admin: ApiClient, member: ApiClient) -> None:
    fault(admin.volume("PUT", f"/os-quota-sets/{member.project_id}", json={"volumes": 1}), 400)


def test_update_below_usage_is_400(admin: ApiClient, member: ApiClient) -> None:
    create_volume(member, size=3)
    fault(admin.volume("PUT", f"/os-quota-sets/{member.project_id}", json={"quota_set": {"gigabytes": 2}}), 400)
    fault(admin.volume("PUT", f"/os-quota-sets/{member.project_id}", json={"quota_set": {"volumes": 0}}), 400)
    assert quota(member, member.project_id)["gigabytes"] == 1000
    assert set_quota(admin, member.project_id, gigabytes=3)["gigabytes"] == 3
    assert set_quota(admin, member.project_id, gigabytes=-1)["gigabytes"] == -1


def test_reset_restores_the_defaults(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=1, snapshots=2)
    response = admin.volume("DELETE", f"/os-quota-sets/{member.project_id}")
    assert response.status_code == 200
    shown = quota(member, member.project_id)
    assert (shown["volumes"], shown["snapshots"]) == (10, 10)


# --- going over ----------------------------------------------------------------------------------


def test_over_gigabytes_is_413_and_creates_nothing(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, gigabytes=3)
    create_volume(member, size=2)
    name = unique()
    response = member.volume("POST", "/volumes", json={"volume": {"size": 2, "name": name}})
    assert over_limit(response) == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
        "Requested 2G, quota is 3G and 2G has been consumed."
    )
    assert named(member, name) == []
    assert volume_count(member) == 1
    assert quota(member, member.project_id, usage=True)["gigabytes"]["in_use"] == 2
    create_volume(member, size=1)  # what still fits is still allowed


def test_over_volume_count_is_413_and_creates_nothing(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=1)
    create_volume(member)
    name = unique()
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1, "name": name}})
    assert (
        over_limit(response)
        == "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    )
    assert named(member, name) == []
    assert volume_count(member) == 1


def test_over_per_volume_gigabytes_is_413(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, per_volume_gigabytes=1)
    response = member.volume("POST", "/volumes", json={"volume": {"size": 2}})
    assert (
        over_limit(response)
        == "VolumeSizeExceedsLimit: Requested volume size 2G is larger than maximum allowed limit 1G."
    )
    assert volume_count(member) == 0
    create_volume(member, size=1)


def test_over_per_type_volume_quota_is_413(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes___DEFAULT__=1)
    create_volume(member)
    response = member.volume("POST", "/volumes", json={"volume": {"size": 1}})
    assert over_limit(response) == (
        "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes___DEFAULT__'."
    )
    assert volume_count(member) == 1


def test_clone_counts_against_quota(admin: ApiClient, member: ApiClient) -> None:
    source = create_volume(member, size=2)
    set_quota(admin, member.project_id, gigabytes=3)
    response = member.volume("POST", "/volumes", json={"volume": {"source_volid": source["id"]}})
    over_limit(response)
    assert volume_count(member) == 1


def test_deleting_frees_quota(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=1)
    first = create_volume(member)
    over_limit(member.volume("POST", "/volumes", json={"volume": {"size": 1}}))
    delete_volume(member, first["id"])
    create_volume(member)


def test_unlimited_is_minus_one(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, gigabytes=-1, per_volume_gigabytes=-1)
    volume = create_volume(member, size=1001, wait=False)
    assert volume["size"] == 1001


def test_over_snapshot_count_is_413(admin: ApiClient, member: ApiClient) -> None:
    volume = create_volume(member)
    set_quota(admin, member.project_id, snapshots=1)
    create_snapshot(member, volume["id"])
    response = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    # Cinder's text ends here; firebrick adds " for quota 'snapshots'." (reported, not changed).
    assert over_limit(response).startswith("SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded")
    assert len(member.volume("GET", "/snapshots").json()["snapshots"]) == 1


def test_snapshot_over_gigabytes_is_413(admin: ApiClient, member: ApiClient) -> None:
    volume = create_volume(member, size=2)
    set_quota(admin, member.project_id, gigabytes=3)
    response = member.volume("POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert over_limit(response) == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
        "Requested 2G, quota is 3G and 2G has been consumed."
    )
    assert member.volume("GET", "/snapshots").json() == {"snapshots": []}


# --- limits --------------------------------------------------------------------------------------


def test_limits_reflect_quota_and_usage(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=4, gigabytes=40, snapshots=3)
    volume = create_volume(member, size=2)
    create_snapshot(member, volume["id"])
    response = member.volume("GET", "/limits")
    assert response.status_code == 200
    assert response.json() == {
        "limits": {
            "rate": [],
            "absolute": {
                "maxTotalVolumes": 4,
                "maxTotalSnapshots": 3,
                "maxTotalVolumeGigabytes": 40,
                "maxTotalBackups": 10,
                "maxTotalBackupGigabytes": 1000,
                "totalVolumesUsed": 1,
                "totalGigabytesUsed": 4,
                "totalSnapshotsUsed": 1,
                "totalBackupsUsed": 0,
                "totalBackupGigabytesUsed": 0,
            },
        }
    }


def test_admin_reads_another_projects_limits_from_3_39(admin: ApiClient, member: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=7)
    theirs = admin.volume("GET", f"/limits?project_id={member.project_id}", version="3.39").json()
    assert theirs["limits"]["absolute"]["maxTotalVolumes"] == 7
    own = admin.volume("GET", f"/limits?project_id={member.project_id}", version="3.38").json()
    assert own["limits"]["absolute"]["maxTotalVolumes"] == quota(admin, admin.project_id)["volumes"]


def test_member_cannot_read_another_projects_limits(member: ApiClient, demo: ApiClient, admin: ApiClient) -> None:
    set_quota(admin, member.project_id, volumes=6)
    body = member.volume("GET", f"/limits?project_id={demo.project_id}", version="3.39").json()
    assert body["limits"]["absolute"]["maxTotalVolumes"] == 6

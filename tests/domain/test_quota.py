from __future__ import annotations

import pytest

from firebrick.config import QuotaSettings
from firebrick.domain import quota
from firebrick.domain.ports import Usage
from firebrick.errors import InvalidInput, QuotaExceeded

LIMITS = quota.limits_for(QuotaSettings(volumes=2, snapshots=1, gigabytes=10, per_volume_gigabytes=5), {}, ["gold"])


def test_limits_include_per_type_keys_and_overrides() -> None:
    limits = quota.limits_for(QuotaSettings(), {"volumes_gold": 3}, ["gold", "__DEFAULT__"])
    assert limits["volumes_gold"] == 3 and limits["gigabytes___DEFAULT__"] == -1 and limits["gigabytes"] == 1000


def test_admission_accepts_what_fits() -> None:
    quota.admission(LIMITS, quota.Delta("t", "gold", volumes=1, gigabytes=5))(Usage(volumes=1, gigabytes=5))


@pytest.mark.parametrize(
    ("delta", "usage", "resource", "message"),
    [
        (
            quota.Delta("t", "gold", volumes=1, gigabytes=6, volume_size=6),
            Usage(),
            "per_volume_gigabytes",
            "Requested volume size 6G is larger than maximum allowed limit 5G.",
        ),
        (
            quota.Delta("t", "gold", volumes=1, gigabytes=1),
            Usage(volumes=2, gigabytes=2),
            "volumes",
            "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.",
        ),
        (
            quota.Delta("t", "gold", volumes=1, gigabytes=4),
            Usage(volumes=1, gigabytes=7),
            "gigabytes",
            "Requested volume or snapshot exceeds allowed gigabytes quota. "
            "Requested 4G, quota is 10G and 7G has been consumed.",
        ),
        (
            quota.Delta("t", "gold", snapshots=1, gigabytes=1),
            Usage(snapshots=1),
            "snapshots",
            "Maximum number of snapshots allowed (1) exceeded",
        ),
    ],
)
def test_admission_refuses_with_cinders_message(delta: quota.Delta, usage: Usage, resource: str, message: str) -> None:
    with pytest.raises(QuotaExceeded) as refused:
        quota.admission(LIMITS, delta)(usage)
    assert refused.value.resource == resource and refused.value.message == message


def test_per_type_quota_counts_only_that_type() -> None:
    limits = {**LIMITS, "volumes_gold": 1}
    admit = quota.admission(limits, quota.Delta("gold-id", "gold", volumes=1, gigabytes=1))
    admit(Usage(volumes=1, per_type={"other-id": (1, 1)}))
    with pytest.raises(QuotaExceeded, match="volumes_gold"):
        admit(Usage(volumes=1, per_type={"gold-id": (1, 1)}))


def test_updates_refuse_unknown_keys_and_limits_below_use() -> None:
    with pytest.raises(InvalidInput, match="Bad key"):
        quota.check_update(LIMITS, Usage(), {"bananas": 1})
    with pytest.raises(InvalidInput, match="must be equal or greater than existing resources"):
        quota.check_update(LIMITS, Usage(volumes=2), {"volumes": 1})
    with pytest.raises(InvalidInput, match="-1 or greater"):
        quota.check_update(LIMITS, Usage(), {"volumes": -2})
    quota.check_update(LIMITS, Usage(volumes=2), {"volumes": -1, "gigabytes": 20})

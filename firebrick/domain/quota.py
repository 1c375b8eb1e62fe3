"""Quota rules: limits are defaults plus per-project overrides; usage is counted live.

A request is admitted inside the same database transaction that inserts the
resource (see the repositories' ``insert(..., admit)``), so two concurrent
requests cannot both take the last gigabyte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from firebrick.config import QuotaSettings
from firebrick.domain.ports import Ports, Usage
from firebrick.errors import InvalidInput, QuotaExceeded

__all__ = [
    "Delta",
    "admission",
    "check_update",
    "limits_for",
    "project_limits",
    "project_usage",
    "reset_limits",
    "type_move_admission",
    "update_limits",
]

_FIXED = {"backups": 10, "backup_gigabytes": 1000, "groups": 10}
_PER_TYPE = ("volumes", "gigabytes", "snapshots")


class Delta:
    """What a request adds: counts, GiB, the volume type it is charged to, and
    ``volume_size``, the size of one volume to hold against ``per_volume_gigabytes``
    (a new volume's size, or an extended volume's new size)."""

    def __init__(
        self,
        type_id: str,
        type_name: str,
        volumes: int = 0,
        snapshots: int = 0,
        gigabytes: int = 0,
        volume_size: int | None = None,
    ) -> None:
        self.type_id, self.type_name = type_id, type_name
        self.volumes, self.snapshots, self.gigabytes = volumes, snapshots, gigabytes
        self.volume_size = volume_size


def limits_for(defaults: QuotaSettings, overrides: Mapping[str, int], type_names: list[str]) -> dict[str, int]:
    """Every quota key of a project, Cinder's per-type keys included (-1 is unlimited)."""
    limits = {
        "volumes": defaults.volumes,
        "snapshots": defaults.snapshots,
        "gigabytes": defaults.gigabytes,
        "per_volume_gigabytes": defaults.per_volume_gigabytes,
        **_FIXED,
    }
    for name in type_names:
        for resource in _PER_TYPE:
            limits[f"{resource}_{name}"] = -1
    limits.update(overrides)
    return limits


def admission(limits: Mapping[str, int], delta: Delta) -> Callable[[Usage], None]:
    """Build the check run against live usage inside the inserting transaction.

    The returned function raises QuotaExceeded when the delta does not fit.
    """

    def admit(usage: Usage) -> None:
        per_volume, size = limits.get("per_volume_gigabytes", -1), delta.volume_size
        if size is not None and per_volume >= 0 and size > per_volume:
            raise QuotaExceeded(
                "per_volume_gigabytes",
                size,
                per_volume,
                0,
                f"Requested volume size {size}G is larger than maximum allowed limit {per_volume}G.",
            )
        type_volumes, type_gb = usage.per_type.get(delta.type_id, (0, 0))
        _check(limits, "volumes", delta.volumes, usage.volumes)
        _check(limits, "snapshots", delta.snapshots, usage.snapshots)
        _check(limits, "gigabytes", delta.gigabytes, usage.gigabytes)
        _check(limits, f"volumes_{delta.type_name}", delta.volumes, type_volumes)
        _check(limits, f"gigabytes_{delta.type_name}", delta.gigabytes, type_gb)

    return admit


def type_move_admission(limits: Mapping[str, int], type_id: str, type_name: str, size: int) -> Callable[[Usage], None]:
    """The check for moving one volume of ``size`` GiB into a type (a retype), against live usage.

    Only the target type's keys (``volumes_<type>``, ``gigabytes_<type>``) are checked: the
    project's totals do not change, and the old type's usage drops by itself when the volume's
    type does. The returned function raises QuotaExceeded when the volume does not fit.
    """

    def admit(usage: Usage) -> None:
        type_volumes, type_gb = usage.per_type.get(type_id, (0, 0))
        _check(limits, f"volumes_{type_name}", 1, type_volumes)
        _check(limits, f"gigabytes_{type_name}", size, type_gb)

    return admit


def check_update(limits: Mapping[str, int], usage: Usage, updates: Mapping[str, int]) -> None:
    """Refuse quota updates for unknown keys or below what is already in use.

    Raises:
        InvalidInput: for an unknown key, a value below -1, or a limit under current use.
    """
    unknown = sorted(set(updates) - set(limits))
    if unknown:
        raise InvalidInput(f"Bad key(s) {', '.join(unknown)} in quota set")
    in_use = {"volumes": usage.volumes, "snapshots": usage.snapshots, "gigabytes": usage.gigabytes}
    for key, value in updates.items():
        if value < -1:
            raise InvalidInput(f"Quota limit {value} for {key} must be -1 or greater.")
        if value != -1 and value < in_use.get(key, 0):
            raise InvalidInput(
                f"Quota limit {value} for {key} must be equal or greater than existing resources. "
                f"Current usage is {in_use[key]} and the requested limit is {value}."
            )


def _check(limits: Mapping[str, int], resource: str, requested: int, in_use: int) -> None:
    limit = limits.get(resource, -1)
    if requested <= 0 or limit < 0 or in_use + requested <= limit:
        return
    if resource.startswith("gigabytes"):
        message = (
            f"Requested volume or snapshot exceeds allowed {resource} quota. "
            f"Requested {requested}G, quota is {limit}G and {in_use}G has been consumed."
        )
    else:
        kind = resource.split("_")[0]
        # Cinder's two count messages differ: only the volumes one names its quota.
        message = f"Maximum number of {kind} allowed ({limit}) exceeded"
        message += f" for quota '{resource}'." if kind == "volumes" else ""
    raise QuotaExceeded(resource, requested, limit, in_use, message)


def project_limits(ports: Ports, project_id: str, defaults_only: bool = False) -> dict[str, int]:
    """A project's limits for every quota key (only the defaults with ``defaults_only``)."""
    overrides = {} if defaults_only else ports.quotas.overrides(project_id)
    return limits_for(ports.quota_defaults, overrides, [t.name for t in ports.types.all()])


def project_usage(ports: Ports, project_id: str) -> dict[str, int]:
    """In-use counts per quota key, per-type keys included."""
    usage = ports.quotas.usage(project_id)
    in_use = {"volumes": usage.volumes, "snapshots": usage.snapshots, "gigabytes": usage.gigabytes}
    for volume_type in ports.types.all():
        count, gigabytes = usage.per_type.get(volume_type.id, (0, 0))
        in_use[f"volumes_{volume_type.name}"] = count
        in_use[f"gigabytes_{volume_type.name}"] = gigabytes
    return in_use


def update_limits(ports: Ports, project_id: str, updates: Mapping[str, int]) -> dict[str, int]:
    """Set some of a project's limits and return them all.

    Raises:
        InvalidInput: unknown key, value below -1, or below current use.
    """
    limits = project_limits(ports, project_id)
    check_update(limits, ports.quotas.usage(project_id), updates)
    ports.quotas.set(project_id, updates)
    return project_limits(ports, project_id)


def reset_limits(ports: Ports, project_id: str) -> None:
    ports.quotas.reset(project_id)

"""Exceptions to OpenStack fault bodies, through one table.

``FAULTS`` maps each ``FirebrickError`` class to an HTTP status; the fault name
comes from the status as Cinder and Nova choose it. Lookups walk the MRO, as
Starlette's exception middleware does, so a new subclass inherits its parent's
answer until it is given its own row.
"""

from __future__ import annotations

from typing import Any

from firebrick import errors

__all__ = ["FAULTS", "HttpFault", "fault_body", "fault_for"]


class HttpFault(Exception):
    """An HTTP-level refusal made in ``api/`` itself (bad JSON, unknown route, bad version)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


FAULTS: dict[type[errors.FirebrickError], int] = {
    errors.NotFound: 404,
    errors.Invalid: 400,
    errors.Conflict: 409,
    errors.QuotaExceeded: 413,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.BackendError: 500,
}

_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    501: "notImplemented",
    503: "serviceUnavailable",
}

# Cinder prefixes quota faults with its exception class name; clients show it.
_QUOTA_CLASS_NAMES = {
    "gigabytes": "VolumeSizeExceedsAvailableQuota",
    "per_volume_gigabytes": "VolumeSizeExceedsLimit",
    "volumes": "VolumeLimitExceeded",
    "snapshots": "SnapshotLimitExceeded",
}


def fault_for(error: errors.FirebrickError) -> tuple[int, str, dict[str, str]]:
    """(status, message, extra headers) for a domain error."""
    status = next(FAULTS[cls] for cls in type(error).__mro__ if cls in FAULTS)
    if isinstance(error, errors.QuotaExceeded):
        base = error.resource.split("_")[0] if error.resource not in _QUOTA_CLASS_NAMES else error.resource
        name = _QUOTA_CLASS_NAMES.get(base, "QuotaError")
        return status, f"{name}: {error.message}", {"Retry-After": "0"}
    return status, error.message, {}


def fault_body(status: int, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "message": message}
    if status == 413:
        body["retryAfter"] = "0"
    return {_FAULT_NAMES.get(status, "computeFault"): body}

"""The one exception hierarchy of firebrick.

Every layer raises these; only ``firebrick.api.errors`` turns them into HTTP
fault bodies, through one table. Exceptions carry structured fields, never
HTTP codes::

    FirebrickError
    ├── NotFound                  a resource does not exist or is not visible
    ├── Invalid                   a request that can never succeed as written
    │   ├── InvalidInput          a value is out of range or malformed
    │   └── InvalidState          a resource is not in a status that allows it
    ├── Conflict                  the request clashes with existing state
    ├── QuotaExceeded             a project would go over a quota
    ├── NotAuthenticated          no valid token
    ├── Forbidden                 policy refuses the caller
    └── BackendError              a driver failed (the message is user-safe)
        └── StorageError          qemu-img or the file system failed
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BackendError",
    "Conflict",
    "FirebrickError",
    "Forbidden",
    "Invalid",
    "InvalidInput",
    "InvalidState",
    "NotAuthenticated",
    "NotFound",
    "QuotaExceeded",
    "StorageError",
]


class FirebrickError(Exception):
    """Root of every error firebrick raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(FirebrickError):
    """A resource does not exist, or the caller may not know that it does."""

    def __init__(self, kind: str, resource_id: str, message: str | None = None) -> None:
        super().__init__(message or f"{kind} {resource_id} could not be found.")
        self.kind = kind
        self.resource_id = resource_id


class Invalid(FirebrickError):
    """A request that cannot succeed as written."""


class InvalidInput(Invalid):
    """A value in the request is malformed or out of range."""


class InvalidState(Invalid):
    """A resource's status does not allow the operation."""

    def __init__(
        self,
        kind: str,
        resource_id: str,
        current: str,
        expected: Iterable[str],
        message: str | None = None,
    ) -> None:
        self.kind = kind
        self.resource_id = resource_id
        self.current = current
        self.expected = tuple(sorted(expected))
        super().__init__(
            message or f"{kind} {resource_id} status must be {' or '.join(self.expected)}, currently {current}."
        )


class Conflict(FirebrickError):
    """The request clashes with existing state (a duplicate name, say)."""


class QuotaExceeded(FirebrickError):
    """Granting the request would take a project over one of its quotas."""

    def __init__(self, resource: str, requested: int, limit: int, in_use: int, message: str) -> None:
        super().__init__(message)
        self.resource = resource
        self.requested = requested
        self.limit = limit
        self.in_use = in_use


class NotAuthenticated(FirebrickError):
    """The request carries no valid token."""


class Forbidden(FirebrickError):
    """Policy does not allow the caller to perform the action."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"Policy doesn't allow {rule} to be performed.")
        self.rule = rule


class BackendError(FirebrickError):
    """A driver failed; the message is safe to show to users."""


class StorageError(BackendError):
    """A storage command or file operation failed.

    ``command`` and ``stderr`` keep the root cause for logs; ``message`` is what
    a user may read (in a volume's error reason, for instance).
    """

    def __init__(
        self,
        message: str,
        command: tuple[str, ...] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.command = command
        self.returncode = returncode
        self.stderr = stderr

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
    │   └── NotPermitted          the resource refuses it, whoever asks (a protected image)
    └── BackendError              a driver failed (the message is user-safe)
        ├── StorageError          qemu-img or the file system failed
        │   └── ImageInUse        a running guest holds the image (QEMU's lock)
        └── VirtError             the hypervisor (QEMU, QMP) failed
            ├── DetachTimeout     the guest never released a disk
            └── GuestTimeout      the guest did not report in time (boot, a disk change)

    StaleClaim                    a job step's claim was taken over; its write is refused

``StaleClaim`` stands outside ``FirebrickError`` on purpose: no step may catch it and compensate
(the compensation would be a write by the same stale attempt); only the job runner sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BackendError",
    "Conflict",
    "DetachTimeout",
    "FirebrickError",
    "Forbidden",
    "GuestTimeout",
    "ImageInUse",
    "Invalid",
    "InvalidInput",
    "InvalidState",
    "NotAuthenticated",
    "NotFound",
    "NotPermitted",
    "QuotaExceeded",
    "StaleClaim",
    "StorageError",
    "VirtError",
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


class NotPermitted(Forbidden):
    """The resource itself refuses the action, whoever asks: a protected image cannot be
    deleted, a read-only attribute cannot change (Glance answers these with 403)."""

    def __init__(self, message: str) -> None:
        FirebrickError.__init__(self, message)
        self.rule = ""


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


class ImageInUse(StorageError):
    """A running guest holds the image open (QEMU's lock): only its hypervisor may change it now."""


class VirtError(BackendError):
    """The hypervisor failed: QEMU did not start, or a QMP command was refused.

    ``server_id`` names the guest when there is one; ``error_class`` is QMP's error class
    (``GenericError``, ``DeviceNotFound`` …) when QEMU refused a command.
    """

    def __init__(self, message: str, server_id: str | None = None, error_class: str | None = None) -> None:
        super().__init__(message)
        self.server_id = server_id
        self.error_class = error_class


class DetachTimeout(VirtError):
    """The guest did not release a disk (no ``DEVICE_DELETED``) within ``timeout`` seconds.

    The disk stays attached, and its image open, until a later detach succeeds or the
    server stops.
    """

    def __init__(self, server_id: str, serial: str, timeout: float) -> None:
        super().__init__(f"server {server_id} did not release disk {serial} within {timeout:g} s", server_id)
        self.serial = serial
        self.timeout = timeout


class GuestTimeout(VirtError):
    """The guest did not report what was waited for (``GUEST-READY``, a disk's size) in time."""

    def __init__(self, server_id: str, waited_for: str, timeout: float) -> None:
        super().__init__(f"server {server_id}: no {waited_for} from the guest within {timeout:g} s", server_id)
        self.waited_for = waited_for
        self.timeout = timeout


class StaleClaim(Exception):  # noqa: N818 - a state, like the other names here
    """The job this attempt works for was taken over (or finished) by another claimer."""

    def __init__(self, job_id: str, epoch: int) -> None:
        super().__init__(f"job {job_id} is no longer held at epoch {epoch}")
        self.job_id = job_id
        self.epoch = epoch

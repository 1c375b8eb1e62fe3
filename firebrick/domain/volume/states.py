"""Volume and snapshot statuses, and which changes between them are allowed.

The tables below are the only place status strings are spelled; every status
write goes through ``Repository.transition``, a compare-and-set whose expected
set comes from here, and which refuses (``check_moves``) a move its table does
not list. Only an admin's ``os-reset_status`` sets a status outside the table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = [
    "ALLOWED",
    "DELETABLE",
    "MIGRATION_SETTLED",
    "MIGRATION_TARGET",
    "RESETTABLE",
    "SNAPSHOT_ALLOWED",
    "AttachStatus",
    "IllegalTransition",
    "MigrationStatus",
    "SnapshotStatus",
    "VolumeStatus",
    "check_moves",
]


class VolumeStatus(enum.StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    ERROR_MANAGING = "error_managing"
    MANAGING = "managing"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    MAINTENANCE = "maintenance"
    RESTORING_BACKUP = "restoring-backup"
    ERROR_RESTORING = "error_restoring"
    RESERVED = "reserved"
    AWAITING_TRANSFER = "awaiting-transfer"
    BACKING_UP = "backing-up"
    ERROR_BACKING_UP = "error_backing-up"
    ERROR_EXTENDING = "error_extending"
    DOWNLOADING = "downloading"
    UPLOADING = "uploading"
    RETYPING = "retyping"
    EXTENDING = "extending"
    # Used by revert but, as in Cinder, not a status an admin may reset to.
    REVERTING = "reverting"
    # Used by os-unmanage; likewise outside Cinder's enum, so not a reset target either.
    UNMANAGING = "unmanaging"


class SnapshotStatus(enum.StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    RESTORING = "restoring"


class AttachStatus(enum.StrEnum):
    DETACHED = "detached"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"
    ERROR_ATTACHING = "error_attaching"
    ERROR_DETACHING = "error_detaching"


class MigrationStatus(enum.StrEnum):
    STARTING = "starting"
    MIGRATING = "migrating"
    COMPLETING = "completing"
    SUCCESS = "success"
    ERROR = "error"
    DELETING = "deleting"


# A volume whose migration_status is one of these is not being moved.
MIGRATION_SETTLED = frozenset({None, MigrationStatus.SUCCESS, MigrationStatus.ERROR, MigrationStatus.DELETING})
# The migration_status of the temporary destination row of a migration: ``target:<source id>`` (Cinder's).
MIGRATION_TARGET = "target:"

V = VolumeStatus
S = SnapshotStatus

# What os-reset_status accepts: every status but those revert and unmanage use internally.
RESETTABLE = tuple(s for s in VolumeStatus if s not in (VolumeStatus.REVERTING, VolumeStatus.UNMANAGING))

# Statuses from which a volume may be deleted without force (Cinder's list).
DELETABLE = frozenset({V.AVAILABLE, V.ERROR, V.ERROR_RESTORING, V.ERROR_EXTENDING, V.ERROR_MANAGING})

ALLOWED: dict[VolumeStatus, frozenset[VolumeStatus]] = {
    V.CREATING: frozenset({V.AVAILABLE, V.ERROR}),
    # Managing stays managing while the file's size is charged, then the file is adopted or refused.
    V.MANAGING: frozenset({V.MANAGING, V.AVAILABLE, V.ERROR_MANAGING}),
    # Available stays available while a flag (readonly) is set under its compare-and-set.
    V.AVAILABLE: frozenset(
        {V.AVAILABLE, V.DELETING, V.EXTENDING, V.REVERTING, V.RESERVED, V.ATTACHING, V.IN_USE, V.RETYPING, V.UNMANAGING}
        | {V.UPLOADING, V.MAINTENANCE}
    ),
    # os-migrate_volume with lock_volume holds an available volume here until the move ends.
    V.MAINTENANCE: frozenset({V.AVAILABLE}),
    # Attaching: reserve (attachments API or os-reserve), connect, complete; detaching recomputes
    # the status from the attachments left (see domain.attachment.settle).
    V.RESERVED: frozenset({V.ATTACHING, V.IN_USE, V.AVAILABLE}),
    V.ATTACHING: frozenset({V.IN_USE, V.AVAILABLE, V.RESERVED}),
    V.IN_USE: frozenset({V.DETACHING, V.AVAILABLE, V.RESERVED, V.EXTENDING, V.RETYPING}),
    V.DETACHING: frozenset({V.IN_USE, V.AVAILABLE}),
    V.REVERTING: frozenset({V.AVAILABLE, V.ERROR}),
    # An attached extend records its new size and stays extending until the guest confirms it.
    V.EXTENDING: frozenset({V.EXTENDING, V.AVAILABLE, V.IN_USE, V.ERROR_EXTENDING}),
    # An upload to an image ends where it started (in-use only if attachments appeared), done or not.
    V.UPLOADING: frozenset({V.AVAILABLE, V.IN_USE}),
    # A retype ends where it started (previous_status), done or not; error only if that was lost.
    V.RETYPING: frozenset({V.AVAILABLE, V.IN_USE, V.ERROR}),
    V.ERROR: frozenset({V.DELETING, V.UNMANAGING}),
    V.ERROR_RESTORING: frozenset({V.DELETING, V.UNMANAGING}),
    V.ERROR_EXTENDING: frozenset({V.DELETING, V.UNMANAGING}),
    V.ERROR_MANAGING: frozenset({V.DELETING, V.UNMANAGING}),
    # An unmanage that succeeds removes the row; one that fails goes back to previous_status.
    V.UNMANAGING: DELETABLE,
    V.DELETING: frozenset({V.ERROR_DELETING}),
    V.ERROR_DELETING: frozenset({V.DELETING}),
}

SNAPSHOT_ALLOWED: dict[SnapshotStatus, frozenset[SnapshotStatus]] = {
    S.CREATING: frozenset({S.AVAILABLE, S.ERROR}),
    S.AVAILABLE: frozenset({S.DELETING, S.RESTORING}),
    S.RESTORING: frozenset({S.AVAILABLE}),
    S.ERROR: frozenset({S.DELETING}),
    S.DELETING: frozenset({S.ERROR_DELETING}),
    S.ERROR_DELETING: frozenset({S.DELETING}),
}


_Status = TypeVar("_Status", bound=str)


class IllegalTransition(Exception):  # noqa: N818 - named for what the code attempted
    """A status change the state machine does not list: a bug in the caller, never the user's input."""


def check_moves(table: Mapping[_Status, frozenset[_Status]], expected: Iterable[str], new: str) -> None:
    """Raises IllegalTransition when a move from any of ``expected`` to ``new`` is not in ``table``."""
    listed = {old for old, targets in table.items() if new in targets}
    unlisted = sorted(str(old) for old in expected if old not in listed)
    if unlisted:
        raise IllegalTransition(f"no transition from {', '.join(unlisted)} to {new} in the state machine")

"""Volume and snapshot statuses, and which changes between them are allowed.

The tables below are the only place status strings are spelled; every status
write goes through ``Repository.transition``, a compare-and-set whose expected
set comes from here.
"""

from __future__ import annotations

import enum

__all__ = [
    "ALLOWED",
    "DELETABLE",
    "MIGRATION_SETTLED",
    "RESETTABLE",
    "SNAPSHOT_ALLOWED",
    "AttachStatus",
    "MigrationStatus",
    "SnapshotStatus",
    "VolumeStatus",
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

V = VolumeStatus
S = SnapshotStatus

# What os-reset_status accepts: every status but the one revert uses internally.
RESETTABLE = tuple(s for s in VolumeStatus if s is not VolumeStatus.REVERTING)

# Statuses from which a volume may be deleted without force (Cinder's list).
DELETABLE = frozenset({V.AVAILABLE, V.ERROR, V.ERROR_RESTORING, V.ERROR_EXTENDING, V.ERROR_MANAGING})

ALLOWED: dict[VolumeStatus, frozenset[VolumeStatus]] = {
    V.CREATING: frozenset({V.AVAILABLE, V.ERROR}),
    V.AVAILABLE: frozenset({V.DELETING, V.EXTENDING, V.REVERTING}),
    V.REVERTING: frozenset({V.AVAILABLE, V.ERROR}),
    V.EXTENDING: frozenset({V.AVAILABLE, V.IN_USE, V.ERROR_EXTENDING}),
    V.ERROR: frozenset({V.DELETING}),
    V.ERROR_RESTORING: frozenset({V.DELETING}),
    V.ERROR_EXTENDING: frozenset({V.DELETING}),
    V.ERROR_MANAGING: frozenset({V.DELETING}),
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

"""Image statuses and visibilities, and which status changes are allowed.

As for volumes, the tables below are the only place these strings are spelled;
every status write is ``ImageRepository.transition``, a compare-and-set whose
expected set comes from here.
"""

from __future__ import annotations

import enum

__all__ = ["ALLOWED", "ImageStatus", "Visibility"]


class ImageStatus(enum.StrEnum):
    QUEUED = "queued"
    SAVING = "saving"
    ACTIVE = "active"
    KILLED = "killed"
    DEACTIVATED = "deactivated"
    # Glance's other statuses, which firebrick never enters (no import API, no delayed delete).
    DELETED = "deleted"
    PENDING_DELETE = "pending_delete"
    UPLOADING = "uploading"
    IMPORTING = "importing"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"
    COMMUNITY = "community"


S = ImageStatus

# A failed or interrupted upload returns its image to queued (Glance's rule), so it can be retried.
ALLOWED: dict[ImageStatus, frozenset[ImageStatus]] = {
    S.QUEUED: frozenset({S.SAVING}),
    S.SAVING: frozenset({S.ACTIVE, S.QUEUED, S.KILLED}),
    S.ACTIVE: frozenset({S.DEACTIVATED}),
    S.DEACTIVATED: frozenset({S.ACTIVE}),
}

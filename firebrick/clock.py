"""Time as firebrick records it."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Naive UTC, as Cinder stores and renders timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)

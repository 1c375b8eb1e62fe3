"""Snapshots: point-in-time copies of volumes."""

from __future__ import annotations

__all__: list[str] = []

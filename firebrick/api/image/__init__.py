"""Image v2 (Glance's subset): images, their data, deactivation."""

from __future__ import annotations

__all__: list[str] = []

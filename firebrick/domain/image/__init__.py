"""The Image v2 service's rules (Glance's subset): records, visibility, data, activation."""

from __future__ import annotations

__all__: list[str] = []

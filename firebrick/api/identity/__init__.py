"""Identity v3: tokens, catalog, the reads clients make after authenticating, and the
administration of projects, users, roles, grants and role assignments (one module each)."""

from __future__ import annotations

__all__: list[str] = []

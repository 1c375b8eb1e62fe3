"""Identity v3: tokens, catalog and the reads clients make after authenticating."""

from __future__ import annotations

__all__: list[str] = []

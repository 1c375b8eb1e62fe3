"""Block Storage v3 (Cinder's API): one module per resource."""

from __future__ import annotations

__all__: list[str] = []

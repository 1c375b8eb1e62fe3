"""The rules of firebrick: state machines, quotas, one module per action.

Knows nothing of HTTP, SQL or QMP; it receives its ports (``ports.Ports``).
"""

from __future__ import annotations

__all__: list[str] = []

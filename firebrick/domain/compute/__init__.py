"""The compute side: servers as guests on a hypervisor, and the volumes they use.

It is a client of the block-storage side over HTTP (``firebrick.remote.volume``),
exactly as Nova is of Cinder, so either side could be the real OpenStack one.
"""

from __future__ import annotations

__all__: list[str] = []

"""The registered services (``cinder-scheduler``, one ``cinder-volume`` per backend) and the pools."""

from __future__ import annotations

__all__: list[str] = []

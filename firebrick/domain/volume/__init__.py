"""Volumes: one module per action, each holding its steps and their compensation."""

from __future__ import annotations

__all__: list[str] = []

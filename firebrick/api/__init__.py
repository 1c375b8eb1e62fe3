"""The HTTP side: one package per API; handlers parse, authorise, call the domain and render."""

from __future__ import annotations

__all__: list[str] = []

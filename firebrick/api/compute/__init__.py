"""The Compute API v2.1 subset under ``/compute``: servers, flavors, volume attachments,
external events and instance actions, as Nova answers them."""

from __future__ import annotations

__all__: list[str] = []

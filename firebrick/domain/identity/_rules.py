"""What projects, users and roles share: the one domain, Keystone's duplicate-name message,
the attributes a PATCH may not change, and the ones Keystone keeps without knowing them."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from firebrick.errors import Conflict, InvalidInput, NotFound

DEFAULT_DOMAIN = "default"


def check_domain(domain_id: str | None) -> str:
    """The domain a new project or user goes to. Raises NotFound for any but the default."""
    if domain_id is None or domain_id == DEFAULT_DOMAIN:
        return DEFAULT_DOMAIN
    raise NotFound("Domain", domain_id, f"Could not find domain: {domain_id}.")


def check_options(body: Mapping[str, Any]) -> None:
    """Raises InvalidInput when the body turns on a resource option (``immutable``,
    ``ignore_password_expiry`` …): firebrick has none, and ignoring one would mislead."""
    options = body.get("options") or {}
    enabled = sorted(name for name, value in options.items() if value)
    if enabled:
        raise InvalidInput(f"Resource options are not supported: {', '.join(enabled)}.")


def duplicate(kind: str, name: str, domain_id: str | None) -> Conflict:
    where = f" at domain ID {domain_id}" if domain_id else ""
    return Conflict(f"Conflict occurred attempting to store {kind} - Duplicate entry found with name {name}{where}.")


def refuse_change(body: Mapping[str, Any], key: str, current: Any) -> None:
    """Raises InvalidInput when a PATCH body sets ``key`` to anything but its current value."""
    if key in body and body[key] != current:
        raise InvalidInput(f"Cannot change {key}: it is {current!r}.")


def extra_changes(current: Mapping[str, Any], body: Mapping[str, Any], known: Set[str]) -> dict[str, Any] | None:
    """The extra attributes after a PATCH (merged, as Keystone merges them), or None if untouched."""
    changed = {key: value for key, value in body.items() if key not in known}
    return {**current, **changed} if changed else None

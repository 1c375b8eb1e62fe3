"""List query parameters (limit, marker, offset, sort, filters) as a ``Page``."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from firebrick.api.errors import HttpFault
from firebrick.api.validation import FALSE_STRINGS, TRUE_STRINGS
from firebrick.domain.model import Page

__all__ = ["MAX_LIMIT", "page_from", "truthy"]

MAX_LIMIT = 1000
_CONTROL = {"limit", "marker", "offset", "sort", "sort_key", "sort_dir", "all_tenants", "with_count", "project_id"}


def truthy(value: str | None) -> bool:
    return value is not None and value in TRUE_STRINGS


def page_from(
    params: Mapping[str, str],
    sort_keys: Mapping[str, str],
    filters: Mapping[str, str],
) -> Page:
    """Build a Page; ``sort_keys`` and ``filters`` map API names to column names.

    Unknown filters are dropped, as Cinder drops those a caller may not use.
    Raises:
        HttpFault: 400 for a bad limit, offset or sort.
    """
    return Page(
        filters=_filters(params, filters),
        sort=_sort(params, sort_keys),
        limit=min(_non_negative(params, "limit", MAX_LIMIT), MAX_LIMIT),
        marker=params.get("marker"),
        offset=_non_negative(params, "offset", 0),
    )


def _non_negative(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpFault(400, f"{name} param must be an integer") from None
    if value < 0:
        raise HttpFault(400, f"{name} param must be positive")  # Cinder's wording for a negative one
    return value


def _sort(params: Mapping[str, str], sort_keys: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise HttpFault(
            400, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter."
        )
    if "sort" in params:
        pairs = [item.partition(":")[::2] for item in params["sort"].split(",") if item]
    elif "sort_key" in params:
        pairs = [(params["sort_key"], params.get("sort_dir", "desc"))]
    else:
        pairs = [("created_at", "desc")]
    result = []
    for key, direction in pairs:
        direction = (direction or "desc").lower()
        if key not in sort_keys or direction not in ("asc", "desc"):
            raise HttpFault(400, f"Invalid input received: Invalid sort key {key} or direction {direction}")
        result.append((sort_keys[key], direction))
    if "id" not in (column for column, _ in result):
        result.append(("id", result[-1][1]))
    return tuple(result)


def _filters(params: Mapping[str, str], allowed: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, raw in params.items():
        if name in _CONTROL:
            continue
        like = name.endswith("~")
        column = allowed.get(name.rstrip("~"))
        if column is None:
            continue  # Cinder drops filters a caller may not use
        result[column + ("~" if like else "")] = _filter_value(column, raw)
    return result


def _filter_value(column: str, raw: str) -> Any:
    if column == "metadata":
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError) as error:
            raise HttpFault(400, f"Invalid input received: invalid metadata filter {raw}") from error
        if not isinstance(value, dict):
            raise HttpFault(400, f"Invalid input received: invalid metadata filter {raw}")
        return {str(k): str(v) for k, v in value.items()}
    if column == "bootable":
        if raw not in TRUE_STRINGS + FALSE_STRINGS:
            raise HttpFault(400, f"Invalid input received: bootable={raw}")
        return raw in TRUE_STRINGS
    if column == "size":
        if not raw.isdigit():
            raise HttpFault(400, f"Invalid input received: size={raw}")
        return int(raw)
    return raw

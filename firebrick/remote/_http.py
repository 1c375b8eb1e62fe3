"""A small JSON-over-HTTP helper for the remote clients (stdlib only: they run in worker threads)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["Reply", "call"]

_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any

    def message(self) -> str:
        """The message of an OpenStack fault body, or the raw body."""
        if isinstance(self.body, dict) and len(self.body) == 1:
            [inner] = self.body.values()
            if isinstance(inner, dict) and "message" in inner:
                return str(inner["message"])
        return str(self.body)


def call(method: str, url: str, headers: dict[str, str], body: Any = None) -> Reply:
    """Send one request; an HTTP error status is a Reply too. Raises OSError when nothing answers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310 (URLs from settings)
            return Reply(response.status, _decode(response.read()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, _decode(error.read()))


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")

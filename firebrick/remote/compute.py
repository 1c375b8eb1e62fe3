"""The block-storage side's client of the compute API: external events (Nova's
``os-server-external-events``), sent as a service user."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from firebrick.errors import BackendError

__all__ = ["ComputeClient"]

log = logging.getLogger(__name__)

# volume-extended needs compute microversion 2.51.
_VERSION = "2.51"
_TIMEOUT = 30.0


class ComputeClient:
    """Sends events to the compute API at ``endpoint`` with tokens from ``token``."""

    def __init__(self, endpoint: str, token: Callable[[], str]) -> None:
        self._endpoint = endpoint
        self._token = token

    def volume_extended(self, volume_id: str, server_ids: Sequence[str]) -> None:
        """Tell compute that ``volume_id`` grew, once per server it is attached to.

        Raises:
            BackendError: compute is unreachable, refused the request, or failed an event.
        """
        events = [{"name": "volume-extended", "server_uuid": sid, "tag": volume_id} for sid in server_ids]
        request = urllib.request.Request(
            f"{self._endpoint}/os-server-external-events",
            data=json.dumps({"events": events}).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Auth-Token": self._token(),
                "OpenStack-API-Version": f"compute {_VERSION}",
                "X-OpenStack-Nova-API-Version": _VERSION,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310 (URL from settings)
                body = json.loads(response.read() or b"{}")
                status = response.status
        except (urllib.error.URLError, OSError, ValueError) as error:
            log.warning("volume-extended for %s not delivered: %s", volume_id, error)
            raise BackendError("Compute service failed to extend volume.") from error
        failed = [e for e in body.get("events", []) if e.get("code", 200) != 200]
        if status != 200 or failed:
            log.warning("volume-extended for %s refused: %s %s", volume_id, status, body)
            raise BackendError("Compute service failed to extend volume.")

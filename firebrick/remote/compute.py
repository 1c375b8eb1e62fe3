"""The block-storage side's client of the compute API: external events (Nova's
``os-server-external-events``) and the volume swap of a migration, sent as a service user."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from firebrick.errors import BackendError
from firebrick.remote._http import call

__all__ = ["ComputeClient"]

log = logging.getLogger(__name__)

# volume-extended needs compute microversion 2.51.
_VERSION = "2.51"
_FAILED = "Compute service failed to extend volume."


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
        headers = {
            "X-Auth-Token": self._token(),
            "OpenStack-API-Version": f"compute {_VERSION}",
            "X-OpenStack-Nova-API-Version": _VERSION,
        }
        try:
            reply = call("POST", f"{self._endpoint}/os-server-external-events", headers, {"events": events})
        except OSError as error:
            log.warning("volume-extended for %s not delivered: %s", volume_id, error)
            raise BackendError(_FAILED) from error
        answered = reply.body.get("events", []) if isinstance(reply.body, dict) else []
        if reply.status != 200 or any(event.get("code", 200) != 200 for event in answered):
            log.warning("volume-extended for %s refused: %s %s", volume_id, reply.status, reply.body)
            raise BackendError(_FAILED)

    def swap_volume(self, server_id: str, old_volume_id: str, new_volume_id: str) -> None:
        """Ask compute to mirror the server's disk onto ``new_volume_id`` (Cinder's call during a
        migration, at microversion 2.1); compute ends it with ``os-migrate_volume_completion``.

        Raises:
            BackendError: compute is unreachable or refused the swap.
        """
        headers = {"X-Auth-Token": self._token(), "OpenStack-API-Version": "compute 2.1",
                   "X-OpenStack-Nova-API-Version": "2.1"}  # fmt: skip
        url = f"{self._endpoint}/servers/{server_id}/os-volume_attachments/{old_volume_id}"
        try:
            reply = call("PUT", url, headers, {"volumeAttachment": {"volumeId": new_volume_id}})
        except OSError as error:
            raise BackendError(f"The compute service is unreachable: {error}") from error
        if reply.status != 202:
            raise BackendError(f"The compute service refused the swap ({reply.status}): {reply.message()}")

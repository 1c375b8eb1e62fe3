"""The compute side's client of the block-storage API, as Nova's ``nova/volume/cinder.py`` is.

Reads that decide what a user may touch go out with the user's token (and the
service token beside it); the rest, and everything a background job does, with
the service user's token alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firebrick.errors import BackendError, InvalidInput, NotFound
from firebrick.remote._http import Reply, call

__all__ = ["RemoteVolume", "VolumeClient"]

# Attachments need 3.27, complete 3.44; 3.48 is what Nova reads volumes at.
_ATTACH_VERSION = "3.44"
_READ_VERSION = "3.48"


@dataclass(frozen=True, slots=True)
class RemoteVolume:
    """What the compute side needs to know of a volume."""

    id: str
    status: str
    size: int
    multiattach: bool
    migration_status: str | None
    availability_zone: str
    attached_servers: dict[str, str]  # server id -> attachment id


class VolumeClient:
    """Calls the block-storage API at ``endpoint`` (``…/volume/v3``, project-less URLs of 3.67)."""

    def __init__(self, endpoint: str, service_token: Callable[[], str]) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._service_token = service_token

    def get(self, volume_id: str, user_token: str | None = None) -> RemoteVolume:
        """Raises NotFound when the volume does not exist (for that user, when a token is given)."""
        reply = self._call("GET", f"/volumes/{volume_id}", _READ_VERSION, user_token=user_token)
        if reply.status == 404:
            raise NotFound("Volume", volume_id)
        body = self._ok(reply, 200)["volume"]
        return RemoteVolume(
            id=body["id"],
            status=body["status"],
            size=int(body["size"]),
            multiattach=bool(body.get("multiattach")),
            migration_status=body.get("migration_status") or body.get("os-vol-mig-status-attr:migstat"),
            availability_zone=body["availability_zone"],
            attached_servers={a["server_id"]: a["attachment_id"] for a in body["attachments"] if a.get("server_id")},
        )

    def attachment_create(self, volume_id: str, instance_uuid: str, user_token: str | None = None) -> str:
        """Reserve the volume for the server; returns the attachment id.

        Raises:
            InvalidInput: the block-storage side refused (not available, already attached).
        """
        body = {"attachment": {"volume_uuid": volume_id, "instance_uuid": instance_uuid}}
        reply = self._call("POST", "/attachments", _ATTACH_VERSION, body, user_token)
        if reply.status in (400, 404, 409):
            raise InvalidInput(reply.message())
        attachment_id: str = self._ok(reply, 200)["attachment"]["id"]
        return attachment_id

    def attachment_mode(self, attachment_id: str) -> str | None:
        """The attachment's ``attach_mode`` (``rw``/``ro``), or None when it is gone."""
        reply = self._call("GET", f"/attachments/{attachment_id}", _ATTACH_VERSION)
        if reply.status == 404:
            return None
        mode: str | None = self._ok(reply, 200)["attachment"].get("attach_mode")
        return mode

    def attachment_update(self, attachment_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Connect this host; returns the connection info."""
        reply = self._call(
            "PUT", f"/attachments/{attachment_id}", _ATTACH_VERSION, {"attachment": {"connector": connector}}
        )
        info: dict[str, Any] = self._ok(reply, 200)["attachment"]["connection_info"]
        return info

    def attachment_complete(self, attachment_id: str) -> None:
        self._ok(self._call("POST", f"/attachments/{attachment_id}/action", _ATTACH_VERSION, {"os-complete": {}}), 204)

    def attachment_delete(self, attachment_id: str) -> None:
        """Release the attachment; one already gone is not an error."""
        reply = self._call("DELETE", f"/attachments/{attachment_id}", _ATTACH_VERSION)
        if reply.status != 404:
            self._ok(reply, 200)

    def begin_detaching(self, volume_id: str) -> None:
        """Raises InvalidInput when the volume is not in-use (e.g. already detaching)."""
        reply = self._call("POST", f"/volumes/{volume_id}/action", None, {"os-begin_detaching": {}})
        if reply.status == 400:
            raise InvalidInput(reply.message())
        self._ok(reply, 202)

    def roll_detaching(self, volume_id: str) -> None:
        self._ok(self._call("POST", f"/volumes/{volume_id}/action", None, {"os-roll_detaching": {}}), 202)

    def extend_volume_completion(self, volume_id: str, error: bool) -> None:
        """Report whether the guest took the new size of an attached volume (3.71)."""
        body = {"os-extend_volume_completion": {"error": error}}
        self._ok(self._call("POST", f"/volumes/{volume_id}/action", "3.71", body), 202)

    def migrate_volume_completion(self, old_id: str, new_id: str, error: bool) -> str:
        """Tell the block-storage side a swap for its migration ended; returns the id the volume keeps."""
        body = {"os-migrate_volume_completion": {"new_volume": new_id, "error": error}}
        saved: str = self._ok(self._call("POST", f"/volumes/{old_id}/action", None, body), 200)["save_volume_id"]
        return saved

    def delete(self, volume_id: str) -> None:
        reply = self._call("DELETE", f"/volumes/{volume_id}", None)
        if reply.status != 404:
            self._ok(reply, 202)

    def _call(
        self, method: str, path: str, version: str | None, body: Any = None, user_token: str | None = None
    ) -> Reply:
        service = self._service_token()
        headers = {"X-Auth-Token": user_token or service}
        if user_token:
            headers["X-Service-Token"] = service
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        try:
            return call(method, self._endpoint + path, headers, body)
        except OSError as error:
            raise BackendError(f"The block storage service is unreachable: {error}") from error

    @staticmethod
    def _ok(reply: Reply, status: int) -> Any:
        if reply.status != status:
            raise BackendError(f"The block storage service answered {reply.status}: {reply.message()}")
        return reply.body

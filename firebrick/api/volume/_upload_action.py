"""``os-volume_upload_image``: a volume's bytes become a new image of the Image service (§2.12).

Kept apart from ``actions.py`` (which lists it in its table) because of its two
schemas and its response body, which carries the image as well as the volume.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.image.images import CONTAINER_FORMATS
from firebrick.api.validation import BOOLEAN, Schema, as_bool
from firebrick.api.volume._call import VolumeCall
from firebrick.api.volume.views import type_view
from firebrick.domain import volume_types
from firebrick.domain.image.states import Visibility
from firebrick.domain.model import Image, Volume
from firebrick.domain.volume import query
from firebrick.domain.volume.upload_image import UploadRequest, request_upload
from firebrick.errors import InvalidInput

__all__ = ["upload_image"]

# Cinder's schema: these formats, any container name (Glance then judges it), no other keys.
_FIELDS: dict[str, Any] = {
    "image_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "force": BOOLEAN,
    "disk_format": {"type": "string", "enum": ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"]},
    "container_format": {"type": "string", "maxLength": 255},
}
_FIELDS_3_1 = {**_FIELDS, "visibility": {"type": "string", "enum": list(Visibility)}, "protected": BOOLEAN}


def _schema(fields: dict[str, Any]) -> Schema:
    return Schema({"type": "object", "properties": fields, "required": ["image_name"], "additionalProperties": False})


_UPLOAD, _UPLOAD_3_1 = _schema(_FIELDS), _schema(_FIELDS_3_1)


def upload_image(call: VolumeCall, volume_id: str, spec: Any) -> Response:
    (_UPLOAD_3_1 if call.at_least(1) else _UPLOAD).check(spec)
    volume = query.show_volume(call.ports, call.caller, volume_id)
    call.authorize("volume_extension:volume_actions:upload_image", volume.project_id)
    request = UploadRequest(
        image_name=spec["image_name"],
        disk_format=spec.get("disk_format", "raw"),
        container_format=spec.get("container_format", "bare"),
        visibility=spec.get("visibility", Visibility.PRIVATE),
        protected=as_bool(spec.get("protected", False)),
        force=as_bool(spec.get("force", False)),
    )
    if request.visibility == Visibility.PUBLIC:
        call.authorize("volume_extension:volume_actions:upload_public", volume.project_id)
    if request.container_format not in CONTAINER_FORMATS:  # what Glance would refuse, Cinder answers 400
        raise InvalidInput(f"Invalid container format '{request.container_format}' for image.")
    uploading, image = request_upload(call.ports, call.caller, volume.id, request)
    return JSONResponse({"os-volume_upload_image": _body(call, uploading, image)}, 202)


def _body(call: VolumeCall, volume: Volume, image: Image) -> dict[str, Any]:
    volume_type = volume_types.type_of(call.ports, volume)
    return {
        "id": volume.id,
        "updated_at": volume.updated_at,
        "status": volume.status,
        "display_description": volume.description,
        "size": volume.size,
        "volume_type": type_view(call, volume_type) if volume_type else None,
        "image_id": image.id,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "image_name": image.name,
        "protected": image.protected,
        "visibility": image.visibility,
    }

"""``/v2/images/{id}/actions/deactivate`` and ``/reactivate`` (the owner's members or an admin, by
Glance's current policy defaults)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import empty
from firebrick.api.image._call import ImageCall, image_endpoint
from firebrick.domain.image.activation import deactivate_image, reactivate_image
from firebrick.domain.image.query import show_image

__all__ = ["deactivate", "reactivate"]


@image_endpoint
def deactivate(request: Request, call: ImageCall) -> Response:
    image = show_image(call.ports, call.caller, request.path_params["image_id"])
    call.authorize("deactivate", image.owner)
    deactivate_image(call.ports, call.caller, image.id)
    return empty(204)


@image_endpoint
def reactivate(request: Request, call: ImageCall) -> Response:
    image = show_image(call.ports, call.caller, request.path_params["image_id"])
    call.authorize("reactivate", image.owner)
    reactivate_image(call.ports, call.caller, image.id)
    return empty(204)

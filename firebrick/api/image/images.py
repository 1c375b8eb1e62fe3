"""``/v2/images``: create, list, show, update (JSON patch), delete."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse, empty, json_body, read_body
from firebrick.api.errors import HttpFault
from firebrick.api.image._call import ImageCall, image_endpoint
from firebrick.api.image.views import image_view
from firebrick.api.validation import UUID, Schema
from firebrick.domain.image.attributes import CORE, check_property_name
from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.delete import delete_image
from firebrick.domain.image.query import list_images, show_image
from firebrick.domain.image.states import Visibility
from firebrick.domain.image.update import PatchOp, update_image
from firebrick.domain.model import Page

__all__ = ["create", "delete", "index", "show", "update"]

# Glance's default disk_formats and container_formats options.
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
_INT32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "id": UUID,
    "name": {"type": ["null", "string"], "maxLength": 255},
    "visibility": {"type": "string", "enum": list(Visibility)},
    "protected": {"type": "boolean"},
    "os_hidden": {"type": "boolean"},
    "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
    "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]},
    "min_disk": _INT32,
    "min_ram": _INT32,
    "tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}, "maxItems": 128},
    "owner": {"type": ["null", "string"], "maxLength": 255},
}
_CUSTOM: dict[str, Any] = {"type": "string", "maxLength": 65535}
_CREATE = Schema({"type": "object", "properties": _ATTRIBUTES, "additionalProperties": _CUSTOM})
_VALUES = {name: Schema({"type": "object", "properties": {name: schema}}) for name, schema in _ATTRIBUTES.items()}
_CUSTOM_VALUE = Schema({"type": "object", "additionalProperties": _CUSTOM})

# Patch media types -> whether "add" of an existing property is a conflict (v2.0) or a replace (v2.1).
_PATCH_TYPES = {
    "application/openstack-images-v2.1-json-patch": False,
    "application/openstack-images-v2.0-json-patch": True,
}
_OPS = '"add", "remove", or "replace"'
_POINTER = re.compile(r"/(?:[^/~]|~[01])+")

_DEFAULT_LIMIT, _MAX_LIMIT = 25, 1000  # Glance's limit_param_default and api_limit_max
_SORT_KEYS = frozenset(
    {"name", "status", "container_format", "disk_format", "size", "virtual_size", "id", "created_at", "updated_at",
     "visibility", "owner", "min_disk", "min_ram", "protected"}
)  # fmt: skip
_FILTERS = ("name", "status", "owner", "disk_format", "container_format")
_BOOLEAN_FILTERS = ("protected", "os_hidden")


@image_endpoint
def create(request: Request, call: ImageCall) -> Response:
    body = json_body(request)
    if not isinstance(body, dict):
        raise HttpFault(400, "Image body must be a JSON object.")
    for key in body:
        if key != "id":
            check_property_name(key)
    _CREATE.check(body)
    call.authorize("add_image")
    _authorize_visibility(call, body.get("visibility"), None)
    core = {key: body[key] for key in (*CORE, "id") if key in body}
    core["tags"] = tuple(core.get("tags", ()))
    properties = {key: value for key, value in body.items() if key not in core}
    image = create_image(call.ports, call.caller, ImageSpec(**core, properties=properties))
    location = call.url("v2", "images", image.id)
    return JSONResponse(image_view(image), 201, headers={"Location": location})


@image_endpoint
def index(request: Request, call: ImageCall) -> Response:
    call.authorize("get_images")
    params = request.query_params
    page = _page(params)
    images = list_images(call.ports, call.caller, page, params.get("visibility"))
    body: dict[str, Any] = {"images": [image_view(image) for image in images]}
    kept = [(k, v) for k, v in params.multi_items() if k != "marker"]
    body["first"] = "/v2/images" + (f"?{urlencode(kept)}" if kept else "")
    body["schema"] = "/v2/schemas/images"
    if images and len(images) == page.limit:
        body["next"] = f"/v2/images?{urlencode([*kept, ('marker', images[-1].id)])}"
    return JSONResponse(body)


@image_endpoint
def show(request: Request, call: ImageCall) -> Response:
    call.authorize("get_image")
    return JSONResponse(image_view(show_image(call.ports, call.caller, request.path_params["image_id"])))


@image_endpoint
def update(request: Request, call: ImageCall) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media not in _PATCH_TYPES:
        raise HttpFault(415, f"Unsupported Content-Type: {media or None}")
    try:
        ops = _patch_ops(orjson.loads(read_body(request)))
    except orjson.JSONDecodeError as error:
        raise HttpFault(400, "Malformed JSON in request body.") from error
    image = show_image(call.ports, call.caller, request.path_params["image_id"])
    call.authorize("modify_image", image.owner)
    for op in ops:
        if op.name == "visibility" and op.op != "remove":
            _authorize_visibility(call, op.value, image.owner)
    updated = update_image(call.ports, call.caller, image.id, ops, strict_add=_PATCH_TYPES[media])
    return JSONResponse(image_view(updated))


@image_endpoint
def delete(request: Request, call: ImageCall) -> Response:
    image = show_image(call.ports, call.caller, request.path_params["image_id"])
    call.authorize("delete_image", image.owner)
    delete_image(call.ports, call.caller, image.id)
    return empty(204)


def _authorize_visibility(call: ImageCall, visibility: Any, owner: str | None) -> None:
    if visibility == Visibility.PUBLIC:
        call.authorize("publicize_image", owner)
    elif visibility == Visibility.COMMUNITY:
        call.authorize("communitize_image", owner)


def _patch_ops(document: Any) -> list[PatchOp]:
    """The operations of a JSON-patch document, each value checked against its attribute's type.

    Raises:
        HttpFault: 400 for a malformed document; NotPermitted for a read-only or reserved name.
    """
    if not isinstance(document, list):
        raise HttpFault(400, "Request body must be a JSON array of operation objects.")
    ops = []
    for item in document:
        op = item.get("op") if isinstance(item, dict) else None
        if op not in ("add", "replace", "remove"):
            raise HttpFault(400, f"Operation objects must contain exactly one member named {_OPS}.")
        path = item.get("path")
        if not isinstance(path, str) or not _POINTER.fullmatch(path):
            raise HttpFault(400, f"Invalid JSON pointer for this resource: '{path}'")
        name = path[1:].replace("~1", "/").replace("~0", "~")
        check_property_name(name)
        if op != "remove":
            if "value" not in item:
                raise HttpFault(400, f'Operation "{op}" requires a member named "value".')
            (_VALUES[name] if name in _VALUES else _CUSTOM_VALUE).check({name: item["value"]})
        ops.append(PatchOp(op, name, item.get("value")))
    return ops


def _page(params: Any) -> Page:
    """Glance's listing parameters as a Page.

    Raises:
        HttpFault: 400 for a bad limit, sort key or direction.
    """
    try:
        limit = int(params.get("limit", _DEFAULT_LIMIT))
    except ValueError:
        raise HttpFault(400, "limit param must be an integer") from None
    if limit < 0:
        raise HttpFault(400, "limit param must be positive")
    filters: dict[str, Any] = {key: params[key] for key in _FILTERS if key in params}
    for key in _BOOLEAN_FILTERS:
        if key in params:
            filters[key] = _boolean(key, params[key])
    for key in ("size_min", "size_max"):
        if key in params:
            filters[key] = _integer(key, params[key])
    if "tag" in params:
        filters["tag"] = params.getlist("tag")
    return Page(filters=filters, sort=_sort(params), limit=min(limit, _MAX_LIMIT), marker=params.get("marker"))


def _sort(params: Any) -> tuple[tuple[str, str], ...]:
    if "sort" in params:
        pairs = [(part.partition(":")[0].strip(), part.partition(":")[2].strip() or "desc")
                 for part in params["sort"].split(",")]  # fmt: skip
    else:
        keys = params.getlist("sort_key") or ["created_at"]
        dirs = params.getlist("sort_dir") or ["desc"]
        pairs = [(key, dirs[min(i, len(dirs) - 1)]) for i, key in enumerate(keys)]
    for key, direction in pairs:
        if key not in _SORT_KEYS:
            known = ", ".join(sorted(_SORT_KEYS))
            raise HttpFault(400, f"Invalid sort key: {key}. It should be one of the following: {known}.")
        if direction not in ("asc", "desc"):
            raise HttpFault(400, f"Invalid sort direction: {direction}")
    if all(key != "id" for key, _ in pairs):
        pairs.append(("id", pairs[-1][1]))  # a total order, so markers are exact
    return tuple(pairs)


def _boolean(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise HttpFault(400, f"Invalid value '{value}' for parameter '{name}'. Must be one of: true, false")
    return lowered == "true"


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise HttpFault(400, f"Invalid value '{value}' for parameter '{name}'. Must be an integer") from None

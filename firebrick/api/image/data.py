"""``/v2/images/{id}/file``: upload (PUT, chunked or not) and download (GET) of an image's data.

The upload is streamed: the handler (like every handler) runs on a worker thread,
and the domain's upload pulls the body from the event loop a megabyte at a time,
so neither the loop nor the memory holds the whole image (nor does a long upload
stall other requests). The download's chunks are read in worker threads too, as
Starlette iterates a plain iterator.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio.from_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from firebrick.api._json import empty
from firebrick.api.errors import HttpFault
from firebrick.api.image._call import ImageCall, image_endpoint
from firebrick.domain.image.data import download_data, upload_data
from firebrick.domain.image.query import show_image

__all__ = ["download", "upload"]

_OCTETS = "application/octet-stream"
_PULL = 1 << 20  # bytes handed to the worker thread per hop


@image_endpoint
def upload(request: Request, call: ImageCall) -> Response:
    media = request.headers.get("content-type", _OCTETS).split(";")[0].strip()
    if media != _OCTETS:
        raise HttpFault(415, f"Content-Type must be {_OCTETS}, not {media}")
    image = show_image(call.ports, call.caller, request.path_params["image_id"])
    call.authorize("upload_image", image.owner)
    upload_data(call.ports, call.caller, image.id, _pulled(request))
    return empty(204)


@image_endpoint
def download(request: Request, call: ImageCall) -> Response:
    call.authorize("download_image")
    image, chunks = download_data(call.ports, call.caller, request.path_params["image_id"])
    if chunks is None:
        return empty(204)  # Glance: an image without data answers 204
    headers = {"Content-Length": str(image.size or 0)}
    if image.checksum:
        headers["Content-MD5"] = image.checksum
    return StreamingResponse(chunks, media_type=_OCTETS, headers=headers)


def _pulled(request: Request) -> Iterator[bytes]:
    """The request body as blocks of about ``_PULL`` bytes, for a worker thread to iterate.

    Each block is read on the event loop; whatever reading raises (the client went
    away) is raised in the thread, where the upload undoes itself.
    """
    stream = request.stream()

    async def pull() -> bytes:
        parts: list[bytes] = []
        size = 0
        while size < _PULL:
            try:
                chunk = await stream.__anext__()
            except StopAsyncIteration:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)

    while block := anyio.from_thread.run(pull):
        yield block

"""What every image API handler starts from: the caller and the node (Glance has no microversions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from starlette.requests import Request

from firebrick.api._call import Call, endpoint, request_node
from firebrick.api.auth import authenticate
from firebrick.domain.ports import Ports

__all__ = ["ImageCall", "image_endpoint"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageCall(Call):
    _API: ClassVar[str] = "image"

    @property
    def ports(self) -> Ports:
        return self.node.ports


def _start(request: Request) -> ImageCall:
    node = request_node(request)
    return ImageCall(node=node, caller=authenticate(request, node.identity))


image_endpoint = endpoint(_start)

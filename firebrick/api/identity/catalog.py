"""The service catalog a token carries: every API this node serves, DevStack-style."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["catalog"]

# (service type, service name, path under the public URL; {project_id} is filled per token)
_SERVICES = (
    ("identity", "keystone", "/identity"),
    ("block-storage", "cinder", "/volume/v3/{project_id}"),
    ("volumev3", "cinderv3", "/volume/v3/{project_id}"),
    ("image", "glance", "/image"),
    ("compute", "nova", "/compute/v2.1"),
)


def catalog(public_url: str, region: str, project_id: str) -> list[dict[str, Any]]:
    entries = []
    for service_type, name, path in _SERVICES:
        url = public_url + path.format(project_id=project_id)
        endpoints = [
            {
                "id": _stable_id(service_type, interface),
                "interface": interface,
                "region_id": region,
                "region": region,
                "url": url,
            }
            for interface in ("public", "internal", "admin")
        ]
        entries.append(
            {"id": _stable_id(service_type, "service"), "type": service_type, "name": name, "endpoints": endpoints}
        )
    return entries


def _stable_id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "firebrick:" + ":".join(parts)).hex

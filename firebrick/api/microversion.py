"""Microversion negotiation through ``OpenStack-API-Version`` (and Nova's legacy header)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers

from firebrick.api.errors import HttpFault

__all__ = ["Version", "VersionRange", "negotiate"]

_PATTERN = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@dataclass(frozen=True, slots=True, order=True)
class Version:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> Version:
        """Raises HttpFault 400 when ``text`` is not ``X.Y``."""
        match = _PATTERN.match(text.strip())
        if match is None:
            raise HttpFault(
                400, f"API Version String {text.strip()} is of invalid format. Must be of format MajorNum.MinorNum."
            )
        return cls(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class VersionRange:
    service: str
    minimum: Version
    maximum: Version
    legacy_header: str | None = None


def negotiate(headers: Headers, supported: VersionRange) -> Version:
    """The version a request asks for; the minimum when it asks for none.

    Raises:
        HttpFault: 400 for a malformed version or a header without this service,
            406 for one outside the supported range.
    """
    requested = _requested(headers, supported)
    if requested is None:
        return supported.minimum
    if requested == "latest":
        return supported.maximum
    version = Version.parse(requested)
    if not supported.minimum <= version <= supported.maximum:
        raise HttpFault(
            406,
            f"Version {version} is not supported by the API. "
            f"Minimum is {supported.minimum} and maximum is {supported.maximum}.",
            # Cinder echoes the requested version on this fault too.
            {"OpenStack-API-Version": f"{supported.service} {version}", "Vary": "OpenStack-API-Version"},
        )
    return version


def _requested(headers: Headers, supported: VersionRange) -> str | None:
    header = headers.get("openstack-api-version")
    if header is not None:
        for entry in header.split(","):
            service, _, value = entry.strip().partition(" ")
            if service.lower() == supported.service:
                return value.strip()
        # Cinder refuses a version header that names other services only.
        raise HttpFault(400, f"API version {header.strip()} is not supported on this method.")
    if supported.legacy_header is not None:
        return headers.get(supported.legacy_header)
    return None

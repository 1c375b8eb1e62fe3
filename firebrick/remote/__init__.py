"""Clients of the other OpenStack services firebrick talks to over HTTP, as Cinder does.

Each speaks the public API only, so the far side may be firebrick's own or the
real OpenStack service.
"""

from __future__ import annotations

from firebrick.remote.compute import ComputeClient
from firebrick.remote.volume import RemoteVolume, VolumeClient

__all__ = ["ComputeClient", "RemoteVolume", "VolumeClient"]

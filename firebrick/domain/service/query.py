"""Reading the registered services, the availability zones they make up, and the storage pools."""

from __future__ import annotations

from firebrick.domain.model import Service
from firebrick.domain.ports import Pool, Ports
from firebrick.storage.base import Capacity

__all__ = ["availability_zones", "list_pools", "list_services"]


def list_services(ports: Ports, host: str | None = None, binary: str | None = None) -> list[Service]:
    """The services, by host (``vm`` also names its backends ``vm@file``) and binary when given."""
    return ports.services.find(host, binary) if ports.services is not None else []


def availability_zones(ports: Ports) -> dict[str, bool]:
    """Each zone of a volume service, and whether any of its volume services is enabled."""
    available: dict[str, bool] = {}
    for service in list_services(ports, binary="cinder-volume"):
        available[service.zone] = available.get(service.zone, False) or not service.disabled
    return available


def list_pools(ports: Ports, with_capacity: bool) -> list[tuple[Pool, Capacity | None]]:
    """This node's pools; with their capacity (which asks each backend) when wanted."""
    return [(pool, pool.driver.capacity() if with_capacity else None) for pool in ports.pools]

"""Starting a guest with the disks its mappings say it has: build and unshelve share it."""

from __future__ import annotations

from firebrick.domain.compute._disks import specs_of
from firebrick.domain.compute.attach import connect_volume
from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.model import Server

__all__ = ["boot_with_disks"]


def boot_with_disks(ports: ComputePorts, server: Server, reconnect: bool = False) -> None:
    """Connect every reserved volume of the server (all of them anew with ``reconnect``: unshelve),
    then boot the guest with them plugged in. Safe to repeat.

    Raises:
        FirebrickError: the hypervisor or the block-storage side refused.
    """
    for mapping in ports.mappings.of_server(server.id):
        if mapping.attachment_id is not None and (reconnect or mapping.connection_info is None):
            connect_volume(ports, mapping)
    flavor = ports.flavors.get(server.flavor_id)
    ports.hypervisor.boot(server.id, flavor.ram if flavor else 256, specs_of(ports.mappings.of_server(server.id)))

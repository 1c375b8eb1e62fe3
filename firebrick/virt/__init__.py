"""Servers (guests) and the volumes plugged into them: the hypervisor layer.

``Hypervisor`` (``base``) is the contract the compute side uses: boot, power and destroy
servers, attach, extend, detach and swap disks, read the serial console and wait for what
the guest reports on it. ``QemuHypervisor`` runs each server as a QEMU process driven over
QMP; ``FakeHypervisor`` keeps the same contract in memory for tests. The guest both run is
described in ``firebrick.virt.guest``: its console lines ``DISK <serial> <size>`` and
``DISK-GONE <serial>`` are what a user reads with ``openstack console log show``.
"""

from __future__ import annotations

from firebrick.virt.base import (
    SERIAL_LENGTH,
    AttachSpec,
    DiskFormat,
    GuestView,
    Hypervisor,
    PowerState,
    RecoveryReport,
    guest_serial,
)
from firebrick.virt.fake import FakeHypervisor
from firebrick.virt.qemu import QemuHypervisor

__all__ = [
    "SERIAL_LENGTH",
    "AttachSpec",
    "DiskFormat",
    "FakeHypervisor",
    "GuestView",
    "Hypervisor",
    "PowerState",
    "QemuHypervisor",
    "RecoveryReport",
    "guest_serial",
]

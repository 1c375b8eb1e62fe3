"""Server states as Nova spells them, which operations each allows, and how they show.

A server's ``vm_state`` is where it rests; ``task_state`` is the operation in
flight (None when idle). Every write of either goes through the server
repository's compare-and-set, with the expected values taken from here.
"""

from __future__ import annotations

import enum

__all__ = ["ATTACHABLE", "ON_HOST", "SWAPPABLE", "PowerState", "TaskState", "VmState", "shown_status"]


class VmState(enum.StrEnum):
    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    SHELVED = "shelved"
    SHELVED_OFFLOADED = "shelved_offloaded"
    ERROR = "error"
    DELETED = "deleted"


class TaskState(enum.StrEnum):
    SPAWNING = "spawning"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    REBOOTING_HARD = "rebooting_hard"
    REBOOTING = "rebooting"
    SHELVING = "shelving"
    SHELVING_OFFLOADING = "shelving_offloading"
    UNSHELVING = "unshelving"
    DELETING = "deleting"


class PowerState(enum.IntEnum):
    NOSTATE = 0
    RUNNING = 1
    SHUTDOWN = 4


# Nova's check_instance_state for attach and detach (task_state must be None too).
ATTACHABLE = frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.SHELVED, VmState.SHELVED_OFFLOADED})
# The servers the hypervisor holds (running or shut off); shelved-offloaded ones it has forgotten.
ON_HOST = frozenset({VmState.ACTIVE, VmState.STOPPED, VmState.SHELVED})
# Swap needs a running guest to mirror.
SWAPPABLE = frozenset({VmState.ACTIVE})

_SHOWN = {
    VmState.BUILDING: "BUILD",
    VmState.ACTIVE: "ACTIVE",
    VmState.STOPPED: "SHUTOFF",
    VmState.SHELVED: "SHELVED",
    VmState.SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
    VmState.ERROR: "ERROR",
    VmState.DELETED: "DELETED",
}
_SHOWN_TASKS = {TaskState.REBOOTING: "REBOOT", TaskState.REBOOTING_HARD: "HARD_REBOOT"}


def shown_status(vm_state: str, task_state: str | None) -> str:
    """The ``status`` users see (Nova's ``_STATE_MAP``)."""
    if vm_state == VmState.ACTIVE and task_state in _SHOWN_TASKS:
        return _SHOWN_TASKS[TaskState(task_state)]
    return _SHOWN.get(VmState(vm_state), "UNKNOWN")

"""The QMP recipes for one disk: plug, resize, unplug, mirror onto another image.

A disk is two block nodes and a device, libvirt-style::

    file<N>  (driver "file": the image file)
      └── fmt<N>  (driver "raw" or "qcow2": what the guest reads)
            └── device disk<M>  (virtio-blk-pci on root port rp<P>, serial = volume id)

Ordering rules (``shared/research/qemu-guest.md`` §4, measured on this QEMU):

* ``block_resize`` goes to the *format* node: for raw it grows the file, for qcow2 the
  virtual size; either way QEMU then tells the guest.
* ``device_del`` only *asks* the guest. The nodes may be deleted only after the
  ``DEVICE_DELETED`` event naming the device (``data.device``; a second event for the
  ``virtio-backend`` child has no ``device``). There is no force-detach: a guest that
  never acknowledges keeps the disk until it does or QEMU stops.
* A swap is ``blockdev-mirror`` (``sync: full``) onto new nodes, ``BLOCK_JOB_READY``,
  ``job-complete``, ``BLOCK_JOB_COMPLETED`` without ``error``; the device then reads the
  new format node and the old nodes are deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import Coroutine
from typing import Any

from qemu.qmp import EventListener

from firebrick.errors import DetachTimeout, InvalidInput, VirtError
from firebrick.virt._monitor import Monitor
from firebrick.virt._record import DiskRecord

__all__ = ["file_node", "format_node", "mirror", "plug", "reconcile", "resize", "unplug", "virtio_device"]

log = logging.getLogger(__name__)

_PERIPHERAL = re.compile(r"/machine/peripheral/(disk\d+)/virtio-backend")
_NODE = re.compile(r"(?:fmt|file)(\d+)")
_STRAY_UNPLUG_SECONDS = 10.0
# A guest that lost an unplug request gets it again this often (ACPI hotplug re-sends).
_UNPLUG_RETRY_SECONDS = 5.0
_JOB_CANCEL_SECONDS = 10.0
# Buffered I/O (like Nova's cache=writeback, honouring the guest's flushes): O_DIRECT
# would fail on tmpfs, and the host can read what the guest wrote without a detach.
_CACHE = {"direct": False, "no-flush": False}


def file_node(disk: DiskRecord) -> dict[str, Any]:
    return {
        "driver": "file",
        "node-name": disk.file_node,
        "filename": disk.path,
        "aio": "threads",
        "cache": _CACHE,
        "read-only": disk.read_only,
    }


def format_node(disk: DiskRecord) -> dict[str, Any]:
    return {
        "driver": disk.format,
        "node-name": disk.format_node,
        "file": disk.file_node,
        "cache": _CACHE,
        "read-only": disk.read_only,
        "discard": "unmap",
    }


def virtio_device(disk: DiskRecord) -> dict[str, Any]:
    device = {
        "driver": "virtio-blk-pci",
        "id": disk.qdev,
        "bus": f"rp{disk.port}",
        "drive": disk.format_node,
        "serial": disk.serial,
    }
    # A multiattach volume: QEMU's image lock then lets other servers' QEMUs write it too.
    return {**device, "share-rw": True} if disk.shared else device


async def plug(monitor: Monitor, disk: DiskRecord) -> None:
    """Open the image and hot-plug the device; on failure nothing is left behind.

    Raises:
        VirtError: when QEMU cannot open the image or add the device.
    """
    await _add_nodes(monitor, disk)
    try:
        await monitor.execute("device_add", virtio_device(disk))
    except VirtError:
        await _delete_nodes(monitor, disk)
        raise


async def resize(monitor: Monitor, disk: DiskRecord, size: int) -> None:
    """Grow the disk to ``size`` bytes and notify the guest (also when the image already
    has that size: a raw file grown by the storage side still needs the notification).

    Raises:
        InvalidInput: when ``size`` is smaller than the disk (QMP has no shrink guard).
        VirtError: when QEMU refuses.
    """
    current = await _virtual_size(monitor, disk.format_node)
    if current is not None and size < current:
        raise InvalidInput(f"disk {disk.serial} is {current} bytes; it cannot shrink to {size}")
    await monitor.execute("block_resize", {"node-name": disk.format_node, "size": size})


async def unplug(monitor: Monitor, server_id: str, disk: DiskRecord, timeout: float) -> None:
    """Ask the guest to release the device until it does, then close the image.

    Raises:
        DetachTimeout: when no ``DEVICE_DELETED`` came within ``timeout`` seconds (the
            device and its nodes stay).
        VirtError: when QEMU refuses otherwise.
    """
    deadline = time.monotonic() + timeout
    with monitor.listen("DEVICE_DELETED", device=disk.qdev) as deleted:
        while True:
            try:
                await monitor.execute("device_del", {"id": disk.qdev})
            except VirtError as exc:
                if exc.error_class == "DeviceNotFound":
                    break  # gone already: an earlier request was acknowledged late
                if "already in the process of unplug" not in exc.message:
                    raise
            remaining = deadline - time.monotonic()
            if await monitor.next_event(deleted, min(remaining, _UNPLUG_RETRY_SECONDS)) is not None:
                break
            if remaining <= _UNPLUG_RETRY_SECONDS:
                raise DetachTimeout(server_id, disk.serial, timeout)
    await _delete_nodes(monitor, disk)


async def mirror(monitor: Monitor, job: str, old: DiskRecord, new: DiskRecord, timeout: float) -> None:
    """Copy ``old``'s image into ``new``'s while the guest runs, switch the device over,
    and close the old image. On failure the device stays on ``old`` and ``new``'s nodes
    are closed.

    Raises:
        VirtError: when the images differ in size, the copy fails, or it does not finish
            within ``timeout`` seconds.
    """
    await _add_nodes(monitor, new)
    try:
        sizes = await _virtual_size(monitor, old.format_node), await _virtual_size(monitor, new.format_node)
        if sizes[0] != sizes[1]:
            raise VirtError(f"Source and target image have different sizes ({sizes[0]}, {sizes[1]})")
        await _run_mirror(monitor, job, old, new, timeout)
    except VirtError:
        await _delete_nodes(monitor, new)
        raise
    await _delete_nodes(monitor, old)


async def _run_mirror(monitor: Monitor, job: str, old: DiskRecord, new: DiskRecord, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    names = ("BLOCK_JOB_READY", "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED")
    with monitor.listen(*names, device=job) as events:
        await monitor.execute(
            "blockdev-mirror",
            {"job-id": job, "device": old.format_node, "target": new.format_node, "sync": "full"},
        )
        event = await monitor.next_event(events, deadline - time.monotonic())
        if event is not None and event["event"] == "BLOCK_JOB_READY":
            await monitor.execute("job-complete", {"id": job})
            event = await monitor.next_event(events, deadline - time.monotonic())
        if event is None:
            await _cancel_job(monitor, job, events)
            raise VirtError(f"swap of disk {old.serial} did not finish within {timeout:g} s")
        if event["event"] != "BLOCK_JOB_COMPLETED" or "error" in event["data"]:
            reason = event["data"].get("error", "cancelled")
            raise VirtError(f"swap of disk {old.serial} failed: {reason}")


async def _cancel_job(monitor: Monitor, job: str, events: EventListener) -> None:
    with contextlib.suppress(VirtError):
        await monitor.execute("job-cancel", {"id": job})
        # The new nodes can be deleted only once the job let go of them.
        deadline = time.monotonic() + _JOB_CANCEL_SECONDS
        while (event := await monitor.next_event(events, deadline - time.monotonic())) is not None:
            if event["event"] in ("BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED"):
                return


async def _virtual_size(monitor: Monitor, node: str) -> int | None:
    nodes = await monitor.execute("query-named-block-nodes", {"flat": True})
    return next((n["image"]["virtual-size"] for n in nodes if n.get("node-name") == node), None)


async def _add_nodes(monitor: Monitor, disk: DiskRecord) -> None:
    await monitor.execute("blockdev-add", file_node(disk))
    try:
        await monitor.execute("blockdev-add", format_node(disk))
    except VirtError:
        await _delete_node(monitor, disk.file_node)
        raise


async def _delete_nodes(monitor: Monitor, disk: DiskRecord) -> None:
    await _delete_node(monitor, disk.format_node)
    await _delete_node(monitor, disk.file_node)


async def _delete_node(monitor: Monitor, node: str) -> None:
    """Delete a node; one that does not exist (deleted before a crash) is not an error."""
    try:
        await monitor.execute("blockdev-del", {"node-name": node})
    except VirtError as exc:
        if "Failed to find node" not in exc.message:
            raise


async def reconcile(monitor: Monitor, server_id: str, disks: list[DiskRecord]) -> list[DiskRecord]:
    """Make QEMU's disks match ``disks`` after firebrick stopped in the middle of a change,
    and return the disks as they now are.

    A device the list does not know is unplugged; a disk whose device is missing is
    plugged; a disk whose device reads other nodes (a swap that completed unrecorded) is
    taken as it is; block jobs are cancelled and nodes nobody uses are deleted.
    """
    with contextlib.suppress(VirtError):
        for job in await monitor.execute("query-jobs"):
            await monitor.execute("job-cancel", {"id": job["id"]})
    plugged = await _plugged(monitor)
    known = {disk.qdev for disk in disks}
    for qdev, inserted in plugged.items():
        if qdev not in known:
            stray = DiskRecord(qdev, "", "raw", False, 0, qdev, _generation(inserted.get("node-name", "")))
            await _best_effort(unplug(monitor, server_id, stray, _STRAY_UNPLUG_SECONDS), f"remove {qdev}")
    current = []
    for disk in disks:
        actual = plugged.get(disk.qdev)
        if actual is not None and actual.get("node-name") != disk.format_node:
            disk = dataclasses.replace(
                disk, path=actual["file"], format=actual["drv"], nodes=_generation(actual["node-name"])
            )
        current.append(disk)
    # The nodes of a disk whose device is missing go too: plug() makes them again.
    await _delete_unused_nodes(monitor, [disk for disk in current if disk.qdev in plugged])
    for disk in current:
        if disk.qdev not in plugged:
            log.info("server %s: plugging disk %s again", server_id, disk.serial)
            await plug(monitor, disk)
    return current


async def _plugged(monitor: Monitor) -> dict[str, dict[str, Any]]:
    """Device id -> ``inserted`` (node-name, file, drv) of each of our virtio disks."""
    found = {}
    for block in await monitor.execute("query-block"):
        if (match := _PERIPHERAL.fullmatch(block.get("qdev", ""))) and "inserted" in block:
            found[match[1]] = block["inserted"]
    return found


async def _delete_unused_nodes(monitor: Monitor, disks: list[DiskRecord]) -> None:
    used = {node for disk in disks for node in (disk.file_node, disk.format_node)}
    nodes = [n["node-name"] for n in await monitor.execute("query-named-block-nodes", {"flat": True})]
    # Format nodes first: a file node cannot go while its format node uses it.
    for node in sorted((n for n in nodes if _NODE.fullmatch(n) and n not in used), key=lambda n: n[:3] != "fmt"):
        await _best_effort(_delete_node(monitor, node), f"delete node {node}")


async def _best_effort(step: Coroutine[Any, Any, None], what: str) -> None:
    try:
        await step
    except VirtError:
        log.warning("could not %s", what, exc_info=True)


def _generation(node: str) -> int:
    match = _NODE.fullmatch(node)
    return int(match[1]) if match else -1

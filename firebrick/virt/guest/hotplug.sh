#!/bin/sh
# Run by busybox `uevent` once per kernel uevent, with the event in the environment.
# Whole virtio disks only (not partitions): wake the disk watcher in /init.
[ "$SUBSYSTEM" = block ] && [ "$DEVTYPE" = disk ] || exit 0
case "$DEVNAME" in
    vd*) echo "$ACTION $DEVNAME" > /run/disk-events ;;
esac
exit 0

#!/bin/sh
# firebrick guest init (PID 1 of the busybox initramfs built by build.py).
#
# Console protocol, one line each, on ttyS0:
#   DISK <serial> <size in bytes>   a virtio disk appeared or changed size
#   DISK-GONE <serial>              a virtio disk disappeared
#   GUEST-READY                     booted; the disks present at boot are already reported
# <serial> is what the guest sees: the virtio-blk serial, at most 20 characters.
# After GUEST-READY a root shell runs on ttyS0 (no echo, no prompt), so the host can type
# commands and read their output.
export PATH=/bin:/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run/disks
# Quiet the kernel: only our lines and the shell share the console.
dmesg -n 1

# Dependency order matters: virtio before virtio_ring gives "Unknown symbol virtio_break_device".
# A module the kernel has built in is simply not in the initramfs.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    [ -e "/lib/modules/$m.ko" ] || continue
    insmod "/lib/modules/$m.ko" || echo "GUEST-ERROR insmod $m"
done

# /run/disks/<vdX> holds "<serial> <bytes>" as last reported; report_disks prints the
# differences between that and /sys/block. It uses shell built-ins only (no fork, which is
# slow under TCG). One caller at a time (init once before GUEST-READY, then only the
# watcher), so one change gives exactly one line.
report_disks() {
    for f in /run/disks/*; do
        [ -e "$f" ] || continue
        if [ ! -e "/sys/block/${f##*/}" ]; then
            read -r old_serial old_size < "$f"
            echo "DISK-GONE $old_serial"
            rm -f "$f"
        fi
    done
    for d in /sys/block/vd*; do
        [ -e "$d/size" ] || continue
        name=${d##*/}
        serial=
        read -r serial < "$d/serial" 2>/dev/null  # no trailing newline: read fails, yet sets it
        [ -n "$serial" ] || serial=$name
        read -r sectors < "$d/size" || continue
        size=$((sectors * 512))
        old_serial=
        old_size=
        [ -e "/run/disks/$name" ] && read -r old_serial old_size < "/run/disks/$name"
        if [ -n "$old_serial" ] && [ "$old_serial" != "$serial" ]; then
            echo "DISK-GONE $old_serial"
            old_size=
        fi
        if [ "$old_size" != "$size" ]; then
            echo "DISK $serial $size"
            echo "$serial $size" > "/run/disks/$name"
        fi
    done
}

# The watcher wakes on every block uevent (/sbin/hotplug writes a line into the FIFO),
# and every 2 s anyway as a safety net against a missed event.
mkfifo /run/disk-events
exec 3<> /run/disk-events
uevent /sbin/hotplug &
report_disks
(
    while :; do
        read -r -t 2 _event <&3
        report_disks
    done
) &
echo GUEST-READY

exec 3>&-
# The shell for the host: no echo and no prompt, so that its output and the lines above
# never share a line (with echo on, busybox's line editing also sends ESC[6n queries).
stty -echo
export PS1='' PS2=''
while :; do
    setsid cttyhack sh
done

"""The guest every server boots: a distribution kernel and a busybox initramfs whose init
reports disk changes on the serial console (see ``build``)."""

from __future__ import annotations

from firebrick.virt.guest.build import MODULES, GuestImage, build_guest, find_kernel

__all__ = ["MODULES", "GuestImage", "build_guest", "find_kernel"]

"""Which accelerator this host can use: KVM when it really boots a guest, else TCG.

``/dev/kvm`` existing is not enough: on a host whose KVM is ``kvm_pvm`` (page-table-based
nested virtualisation) a stock kernel hangs right after the real-mode setup, with no error,
and ``-accel kvm:tcg`` does not fall back because KVM *initialises* fine. So the driver
boots a throwaway guest with KVM once and waits a short time for ``GUEST-READY``; the
verdict is kept in a small JSON file (``accel.json`` in the driver's state directory unless
told otherwise), keyed by the host kernel and the QEMU binary, and asked again when either
changes.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

__all__ = ["AccelCache", "kvm_usable"]

_KVM_GET_API_VERSION = 0xAE00
_KVM_API_VERSION = 12


def kvm_usable(device: str = "/dev/kvm") -> bool:
    """Whether ``device`` opens read-write and speaks the KVM API (version 12)."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, _KVM_GET_API_VERSION) == _KVM_API_VERSION
    except OSError:
        return False
    finally:
        os.close(fd)


class AccelCache:
    """The remembered verdict ("kvm" or "tcg") for this host and QEMU binary."""

    def __init__(self, path: Path, binary: str) -> None:
        self._path = path
        stat = os.stat(binary)
        self._key = f"{os.uname().release} {binary} {stat.st_size} {stat.st_mtime_ns}"

    def get(self) -> str | None:
        try:
            saved = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return None
        verdict = saved.get("accel") if isinstance(saved, dict) and saved.get("host") == self._key else None
        return verdict if verdict in ("kvm", "tcg") else None

    def put(self, verdict: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"host": self._key, "accel": verdict}))
        os.replace(temporary, self._path)

"""What the QEMU driver remembers of a server, in ``server.json`` in the server's directory.

It is enough to start the server again with all of its disks, and to find each disk's
QEMU objects: the PCI root port, the device id and the current block nodes (a swap changes
the nodes but not the device, so the nodes' generation is kept per disk). Every change is
written to a temporary file and renamed into place, and the generation counter is saved
before QEMU objects carrying it are made, so names are never reused after a crash.
"""

from __future__ import annotations

import json
import os
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from firebrick.storage.base import DiskFormat
from firebrick.virt.base import AttachSpec

__all__ = ["DiskRecord", "ServerRecord"]

RECORD_FILE = "server.json"


@dataclass
class DiskRecord:
    """One plugged disk: its spec, root port, device id and current node generation."""

    serial: str
    path: str
    format: str
    read_only: bool
    port: int
    qdev: str
    nodes: int
    shared: bool = False  # a multiattach disk: other QEMUs may write the image too

    @property
    def device(self) -> str:
        """The guest name: ports are handed out lowest first, as Linux hands out names."""
        return f"vd{string.ascii_lowercase[self.port]}"

    @property
    def file_node(self) -> str:
        return f"file{self.nodes}"

    @property
    def format_node(self) -> str:
        return f"fmt{self.nodes}"

    def spec(self) -> AttachSpec:
        return AttachSpec(self.serial, Path(self.path), DiskFormat(self.format), self.read_only, self.shared)


@dataclass
class ServerRecord:
    """A server: memory, whether it should run, its disks, and where this boot's console starts."""

    server_id: str
    memory_mb: int
    powered_on: bool = False
    disks: list[DiskRecord] = field(default_factory=list)
    generation: int = 0
    console_offset: int = 0

    def disk(self, serial: str) -> DiskRecord | None:
        return next((disk for disk in self.disks if disk.serial == serial), None)

    def free_port(self, ports: int) -> int | None:
        used = {disk.port for disk in self.disks}
        return next((port for port in range(ports) if port not in used), None)

    def next_generation(self) -> int:
        self.generation += 1
        return self.generation

    def save(self, directory: Path) -> None:
        temporary = directory / f".{RECORD_FILE}.tmp"
        temporary.write_text(json.dumps(asdict(self), indent=1))
        os.replace(temporary, directory / RECORD_FILE)

    @classmethod
    def load(cls, directory: Path) -> ServerRecord | None:
        """The record in ``directory``, or ``None`` when there is none."""
        try:
            raw: dict[str, Any] = json.loads((directory / RECORD_FILE).read_text())
        except FileNotFoundError:
            return None
        raw["disks"] = [DiskRecord(**disk) for disk in raw.get("disks", [])]
        return cls(**raw)

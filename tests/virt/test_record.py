"""The server record kept in server.json."""

from __future__ import annotations

from pathlib import Path

from firebrick.virt._disks import virtio_device
from firebrick.virt._record import DiskRecord, ServerRecord


def test_a_record_survives_a_round_trip(tmp_path: Path) -> None:
    record = ServerRecord("s1", 256, powered_on=True, console_offset=42)
    generation = record.next_generation()
    record.disks.append(DiskRecord("vol", "/v.qcow2", "qcow2", False, 0, f"disk{generation}", generation))
    record.save(tmp_path)

    assert ServerRecord.load(tmp_path) == record
    assert ServerRecord.load(tmp_path / "missing") is None
    assert [p.name for p in tmp_path.iterdir()] == ["server.json"]


def test_ports_and_device_names_go_lowest_first() -> None:
    record = ServerRecord("s1", 256)
    record.disks += [DiskRecord(s, "/x", "raw", False, port, s, 1) for s, port in (("a", 0), ("c", 2))]

    assert record.free_port(16) == 1
    assert record.free_port(1) is None
    assert [d.device for d in record.disks] == ["vda", "vdc"]
    assert (record.disks[1].file_node, record.disks[1].format_node) == ("file1", "fmt1")


def test_a_shared_disk_stays_shared_and_asks_qemu_to_share_writes(tmp_path: Path) -> None:
    record = ServerRecord("s1", 256)
    record.disks.append(DiskRecord("vol", "/v.raw", "raw", False, 0, "disk1", 1, shared=True))
    record.disks.append(DiskRecord("own", "/o.raw", "raw", False, 1, "disk2", 2))
    record.save(tmp_path)
    loaded = ServerRecord.load(tmp_path)

    assert loaded is not None and [d.spec().shared for d in loaded.disks] == [True, False]
    assert virtio_device(loaded.disks[0])["share-rw"] is True
    assert "share-rw" not in virtio_device(loaded.disks[1])  # QEMU's default: writes are not shared

"""The server record kept in server.json."""

from __future__ import annotations

from pathlib import Path

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

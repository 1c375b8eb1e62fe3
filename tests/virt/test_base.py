"""The console protocol as GuestView reads it."""

from __future__ import annotations

from firebrick.virt import SERIAL_LENGTH, GuestView, guest_serial

SERIAL = "0c7a9a8e-5b7e-4b51-9a43-1f5e2c3d4e5f"


def test_guest_view_follows_disk_lines() -> None:
    view = GuestView()
    lines = ["", "BusyBox v1.35.0 built-in shell", f"DISK {SERIAL[:20]} 1073741824", "GUEST-READY"]

    assert [view.feed(line) for line in lines] == [False, False, True, True]
    assert view.ready and view.has(SERIAL, 1073741824)

    view.feed(f"DISK {SERIAL[:20]} 2147483648\r")
    assert view.has(SERIAL, 2147483648) and not view.has(SERIAL, 1073741824)

    view.feed(f"DISK-GONE {SERIAL[:20]}")
    assert view.has(SERIAL, None) and view.disks == {}


def test_lines_that_only_contain_the_words_are_not_reports() -> None:
    view = GuestView()

    for line in ("/ # DISK vol 5", "DISK vol five", "DISK vol 5 extra", "echo GUEST-READY"):
        assert not view.feed(line)
    assert view == GuestView()


def test_the_guest_sees_twenty_characters_of_a_serial() -> None:
    assert SERIAL_LENGTH == 20
    assert guest_serial(SERIAL) == "0c7a9a8e-5b7e-4b51-9"
    assert guest_serial("short") == "short"

"""The accelerator verdict: /dev/kvm checks and the per-host cache."""

from __future__ import annotations

import sys
from pathlib import Path

from firebrick.virt._accel import AccelCache, kvm_usable


def test_kvm_is_unusable_without_a_kvm_device(tmp_path: Path) -> None:
    assert not kvm_usable(str(tmp_path / "kvm"))
    assert not kvm_usable("/dev/null")  # opens, but does not speak the KVM API


def test_the_verdict_is_kept_per_host_and_binary(tmp_path: Path) -> None:
    binary = tmp_path / "qemu"
    binary.write_bytes(b"v1")
    cache = AccelCache(tmp_path / "accel.json", str(binary))
    assert cache.get() is None

    cache.put("tcg")
    assert AccelCache(tmp_path / "accel.json", str(binary)).get() == "tcg"
    assert AccelCache(tmp_path / "accel.json", sys.executable).get() is None  # another QEMU: ask again

    binary.write_bytes(b"v2, upgraded")
    assert AccelCache(tmp_path / "accel.json", str(binary)).get() is None
    (tmp_path / "accel.json").write_text("not json")
    assert cache.get() is None

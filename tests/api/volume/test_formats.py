"""A volume type can ask for qcow2 files; the default pool writes raw sparse files."""

from __future__ import annotations

import json
import subprocess
import uuid

from tests.conftest import ApiClient, RunningServer


def _qemu_info(path: str) -> dict[str, object]:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], capture_output=True, text=True, check=True)
    info: dict[str, object] = json.loads(out.stdout)
    return info


def test_qcow2_type_makes_qcow2_files_and_default_makes_sparse_raw(
    server: RunningServer, admin: ApiClient, demo: ApiClient
) -> None:
    name = f"qcow2-{uuid.uuid4().hex[:8]}"
    created = admin.volume(
        "POST", "/types", json={"volume_type": {"name": name, "extra_specs": {"firebrick:disk_format": "qcow2"}}}
    )
    assert created.status_code == 200, created.text
    qcow = demo.volume("POST", "/volumes", json={"volume": {"size": 2, "volume_type": name}}).json()["volume"]
    raw = demo.volume("POST", "/volumes", json={"volume": {"size": 2}}).json()["volume"]
    demo.wait_volume(qcow["id"], "available")
    demo.wait_volume(raw["id"], "available")
    driver = server.node.pools[0].driver
    qcow_path, raw_path = driver.volume_path(qcow["id"]), driver.volume_path(raw["id"])  # type: ignore[attr-defined]
    qcow_info, raw_info = _qemu_info(str(qcow_path)), _qemu_info(str(raw_path))
    assert (qcow_info["format"], qcow_info["virtual-size"]) == ("qcow2", 2 * 1024**3)
    assert raw_info["virtual-size"] == 2 * 1024**3 and raw_path.stat().st_size == 2 * 1024**3
    assert raw_path.stat().st_blocks * 512 < 1024**2  # sparse: nothing written, nothing allocated
    for volume in (qcow, raw):
        assert demo.volume("DELETE", f"/volumes/{volume['id']}").status_code == 202
        demo.wait_gone(f"/volumes/{volume['id']}")
    assert not qcow_path.exists() and not raw_path.exists()
    assert admin.volume("DELETE", f"/types/{created.json()['volume_type']['id']}").status_code == 202

from __future__ import annotations

import pytest

from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.update import PatchOp, update_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import Conflict, NotPermitted
from tests.domain.image._helpers import active_image


def test_ops_apply_in_order_and_land_together(ports: Ports, member: Caller) -> None:
    image = create_image(ports, member, ImageSpec(name="a", properties={"k": "v", "gone": "x"}))
    updated = update_image(ports, member, image.id, [
        PatchOp("replace", "name", "b"),
        PatchOp("add", "tags", ["x", "y"]),
        PatchOp("add", "new", "1"),
        PatchOp("replace", "k", "w"),
        PatchOp("remove", "gone"),
        PatchOp("replace", "min_disk", 3),
    ])  # fmt: skip
    assert (updated.name, updated.tags, updated.min_disk) == ("b", ("x", "y"), 3)
    assert updated.properties == {"k": "w", "new": "1"}


def test_custom_properties_must_exist_to_be_replaced_or_removed(ports: Ports, member: Caller) -> None:
    image = create_image(ports, member, ImageSpec(properties={"k": "v"}))
    for op in ("replace", "remove"):
        with pytest.raises(Conflict, match="Property nope does not exist"):
            update_image(ports, member, image.id, [PatchOp(op, "nope", "v")])
    with pytest.raises(Conflict, match="already present"):
        update_image(ports, member, image.id, [PatchOp("add", "k", "w")], strict_add=True)
    assert update_image(ports, member, image.id, [PatchOp("add", "k", "w")]).properties == {"k": "w"}


def test_a_failed_op_changes_nothing(ports: Ports, member: Caller) -> None:
    image = create_image(ports, member, ImageSpec(name="a"))
    with pytest.raises(Conflict):
        update_image(ports, member, image.id, [PatchOp("replace", "name", "b"), PatchOp("remove", "nope")])
    assert ports.image_service().records.get(image.id).name == "a"  # type: ignore[union-attr]


def test_glances_refusals(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member)
    with pytest.raises(NotPermitted, match="read-only"):
        update_image(ports, member, image.id, [PatchOp("replace", "checksum", "x")])
    with pytest.raises(NotPermitted, match="may not be removed"):
        update_image(ports, member, image.id, [PatchOp("remove", "name")])
    with pytest.raises(NotPermitted, match="only replaced for a queued image"):
        update_image(ports, member, image.id, [PatchOp("replace", "disk_format", "qcow2")])
    with pytest.raises(NotPermitted, match="administrator"):
        update_image(ports, member, image.id, [PatchOp("replace", "owner", "x")])

from __future__ import annotations

import pytest

from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import Conflict, NotPermitted

ID = "11111111-2222-3333-4444-555555555555"


def test_a_new_image_is_queued_owned_by_the_callers_project_and_shared(ports: Ports, member: Caller) -> None:
    image = create_image(ports, member, ImageSpec(name="i", tags=("a", "b", "a"), properties={"os_distro": "x"}))
    stored = ports.image_service().records.get(image.id)
    assert stored is not None
    assert (stored.status, stored.owner, stored.visibility) == ("queued", member.project_id, "shared")
    assert stored.tags == ("a", "b") and stored.properties == {"os_distro": "x"}
    assert stored.node == ports.node and stored.size is None and stored.checksum is None


def test_an_id_may_be_chosen_once(ports: Ports, member: Caller) -> None:
    assert create_image(ports, member, ImageSpec(id=ID)).id == ID
    with pytest.raises(Conflict, match=f"Image with identifier {ID} already exists"):
        create_image(ports, member, ImageSpec(id=ID))


@pytest.mark.parametrize(
    ("name", "why"), [("status", "read-only"), ("deleted", "reserved"), ("os_glance_x", "reserved")]
)
def test_read_only_and_reserved_names_are_refused(ports: Ports, member: Caller, name: str, why: str) -> None:
    with pytest.raises(NotPermitted, match=f"Attribute '{name}' is {why}"):
        create_image(ports, member, ImageSpec(properties={name: "v"}))


def test_only_an_admin_names_another_owner(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    with pytest.raises(NotPermitted):
        create_image(ports, member, ImageSpec(owner="someone-else"))
    assert create_image(ports, admin_caller, ImageSpec(owner="someone-else")).owner == "someone-else"

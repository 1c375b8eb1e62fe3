from __future__ import annotations

import pytest

from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.query import list_images, show_image
from firebrick.domain.model import Caller, Page
from firebrick.domain.ports import Ports
from firebrick.errors import InvalidInput, NotFound
from firebrick.node import Node
from tests.fixtures_domain import caller_in


@pytest.fixture
def outsider(node: Node) -> Caller:
    return caller_in(node, "beta")


def _names(images: list) -> set[str]:  # type: ignore[type-arg]
    return {image.name for image in images}


def test_visibility_decides_who_sees_what(
    ports: Ports, member: Caller, outsider: Caller, admin_caller: Caller
) -> None:
    for visibility in ("private", "shared", "public", "community"):
        create_image(ports, member, ImageSpec(name=visibility, visibility=visibility))
    assert _names(list_images(ports, member, Page())) == {"private", "shared", "public", "community"}
    assert _names(list_images(ports, outsider, Page())) == {"public"}  # community only when asked for
    assert _names(list_images(ports, outsider, Page(), "community")) == {"community"}
    assert _names(list_images(ports, outsider, Page(), "all")) == {"public", "community"}
    assert _names(list_images(ports, outsider, Page(), "private")) == set()
    assert _names(list_images(ports, admin_caller, Page())) >= {"private", "shared", "public", "community"}
    assert _names(list_images(ports, member, Page(), "shared")) == {"shared"}


def test_an_invisible_image_is_not_found(ports: Ports, member: Caller, outsider: Caller, admin_caller: Caller) -> None:
    private = create_image(ports, member, ImageSpec(visibility="private"))
    community = create_image(ports, member, ImageSpec(visibility="community"))
    with pytest.raises(NotFound, match=f"No image found with ID {private.id}"):
        show_image(ports, outsider, private.id)
    assert show_image(ports, outsider, community.id).id == community.id
    assert show_image(ports, admin_caller, private.id).id == private.id


def test_pages_follow_markers_and_filters(ports: Ports, member: Caller, outsider: Caller) -> None:
    made = [create_image(ports, member, ImageSpec(name=f"n{i}", tags=("t",) if i % 2 else ())) for i in range(5)]
    first = list_images(ports, member, Page(limit=2))
    rest = list_images(ports, member, Page(limit=10, marker=first[-1].id))
    assert [i.id for i in first + rest] == [i.id for i in reversed(made)]
    assert _names(list_images(ports, member, Page(filters={"tag": ["t"]}))) == {"n1", "n3"}
    assert _names(list_images(ports, member, Page(filters={"name": "n2"}))) == {"n2"}
    with pytest.raises(InvalidInput, match="Invalid marker"):
        list_images(ports, outsider, Page(marker=made[0].id))
    with pytest.raises(InvalidInput, match="Invalid visibility"):
        list_images(ports, member, Page(), "everyone")


def test_hidden_images_are_listed_only_when_asked_for(ports: Ports, member: Caller) -> None:
    create_image(ports, member, ImageSpec(name="hidden", os_hidden=True))
    assert _names(list_images(ports, member, Page())) == set()
    assert _names(list_images(ports, member, Page(filters={"os_hidden": True}))) == {"hidden"}

from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.image_metadata import set_image_metadata, show_image_metadata, unset_image_metadata
from firebrick.errors import NotFound
from tests.fixtures_domain import drain


def test_set_merges_and_unset_removes_one_key(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    assert set_image_metadata(ports, member, volume.id, {"a": "1", "b": "2"}) == {"a": "1", "b": "2"}
    assert set_image_metadata(ports, member, volume.id, {"b": "3"}) == {"a": "1", "b": "3"}
    unset_image_metadata(ports, member, volume.id, "a")
    assert show_image_metadata(ports, member, volume.id) == {"b": "3"}
    with pytest.raises(NotFound, match="Glance metadata"):
        unset_image_metadata(ports, member, volume.id, "a")
    assert ports.volumes.get(volume.id).metadata == {}  # type: ignore[union-attr]

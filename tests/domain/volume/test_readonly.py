from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.readonly import update_readonly_flag
from firebrick.errors import InvalidState
from tests.fixtures_domain import drain


def test_flag_is_set_only_while_available(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    with pytest.raises(InvalidState, match="must be available to update readonly flag"):
        update_readonly_flag(ports, member, volume.id, True)  # still creating
    drain(ports)
    update_readonly_flag(ports, member, volume.id, True)
    assert ports.volumes.get(volume.id).readonly is True  # type: ignore[union-attr]

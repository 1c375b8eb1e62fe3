from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.bootable import set_bootable
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.reset_status import request_reset_status
from firebrick.errors import InvalidInput, NotFound
from tests.fixtures_domain import drain


def test_bootable_flag_is_stored(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    set_bootable(ports, member, volume.id, True)
    assert ports.volumes.get(volume.id).bootable is True  # type: ignore[union-attr]
    set_bootable(ports, member, volume.id, False)
    assert ports.volumes.get(volume.id).bootable is False  # type: ignore[union-attr]


def test_refused_in_maintenance_and_for_other_projects(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    request_reset_status(ports, admin_caller, volume.id, "maintenance", None, None)
    with pytest.raises(InvalidInput):
        set_bootable(ports, member, volume.id, True)
    theirs = request_create(ports, admin_caller, CreateRequest(size=1))
    with pytest.raises(NotFound):
        set_bootable(ports, member, theirs.id, True)

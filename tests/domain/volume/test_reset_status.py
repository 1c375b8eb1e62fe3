from __future__ import annotations

import pytest

from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.reset_status import request_reset_status
from firebrick.errors import InvalidInput
from tests.fixtures_domain import drain


def test_reset_sets_each_field_and_lowercases(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    request_reset_status(ports, admin_caller, volume.id, "ERROR", "detached", "migrating")
    after = ports.volumes.get(volume.id)
    assert after is not None and (after.status, after.attach_status, after.migration_status) == (
        "error",
        "detached",
        "migrating",
    )
    request_reset_status(ports, admin_caller, volume.id, None, None, "none")
    assert ports.volumes.get(volume.id).migration_status is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "attach", "migration", "message"),
    [
        (None, None, None, "Must specify"),
        ("bogus", None, None, "Volume status: bogus is invalid"),
        ("deleting", None, None, "Cannot reset-state to deleting"),
        ("error_deleting", None, None, "Cannot reset-state to error_deleting"),
        ("in-use", None, None, "does not have any attachments"),
        (None, "sideways", None, "attach status: sideways is invalid"),
        (None, None, "lost", "migration status: lost is invalid"),
    ],
)
def test_bad_resets_change_nothing(
    ports: Ports,
    member: Caller,
    admin_caller: Caller,
    status: str | None,
    attach: str | None,
    migration: str | None,
    message: str,
) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    drain(ports)
    with pytest.raises(InvalidInput, match=message):
        request_reset_status(ports, admin_caller, volume.id, status, attach, migration)
    assert ports.volumes.get(volume.id).status == "available"  # type: ignore[union-attr]

from __future__ import annotations

import pytest

from firebrick.domain.image.delete import delete_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import NotFound, NotPermitted
from tests.domain.image._helpers import active_image


def test_delete_removes_the_record_and_the_data(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member)
    path = ports.image_service().files.path(image.id)
    assert path.is_file()
    delete_image(ports, member, image.id)
    assert ports.image_service().records.get(image.id) is None and not path.exists()
    with pytest.raises(NotFound):
        delete_image(ports, member, image.id)


def test_a_protected_image_stays(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member, protected=True)
    with pytest.raises(NotPermitted, match="is protected and cannot be deleted"):
        delete_image(ports, member, image.id)
    assert ports.image_service().files.path(image.id).is_file()

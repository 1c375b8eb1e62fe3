from __future__ import annotations

import pytest

from firebrick.domain.image.activation import deactivate_image, reactivate_image
from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.image.data import download_data
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.errors import NotPermitted
from tests.domain.image._helpers import active_image


def test_deactivate_hides_the_data_from_non_admins_until_reactivated(
    ports: Ports, member: Caller, admin_caller: Caller
) -> None:
    image = active_image(ports, member, data=b"abc")
    deactivate_image(ports, admin_caller, image.id)
    deactivate_image(ports, admin_caller, image.id)  # again: no change, no error
    assert ports.image_service().records.get(image.id).status == "deactivated"  # type: ignore[union-attr]
    with pytest.raises(NotPermitted, match="deactivated"):
        download_data(ports, member, image.id)
    _, chunks = download_data(ports, admin_caller, image.id)
    assert chunks is not None and b"".join(chunks) == b"abc"
    reactivate_image(ports, admin_caller, image.id)
    reactivate_image(ports, admin_caller, image.id)
    _, chunks = download_data(ports, member, image.id)
    assert chunks is not None and b"".join(chunks) == b"abc"


def test_an_image_without_data_cannot_be_deactivated(ports: Ports, admin_caller: Caller) -> None:
    image = create_image(ports, admin_caller, ImageSpec())
    with pytest.raises(NotPermitted, match="Not allowed to deactivate image in status 'queued'"):
        deactivate_image(ports, admin_caller, image.id)
    with pytest.raises(NotPermitted, match="Not allowed to reactivate image in status 'queued'"):
        reactivate_image(ports, admin_caller, image.id)

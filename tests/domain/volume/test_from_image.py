from __future__ import annotations

import pytest

from firebrick.domain.image.activation import deactivate_image
from firebrick.domain.image.create import ImageSpec, create_image
from firebrick.domain.model import Caller
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.errors import Conflict, InvalidInput
from firebrick.node import Node
from tests.domain.image._helpers import active_image
from tests.fixtures_domain import caller_in, drain

GiB = 1024**3


def test_a_volume_from_an_image_is_bootable_and_records_the_image(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member, name="cirros", min_ram=64, properties={"os_distro": "cirros"})
    volume = request_create(ports, member, CreateRequest(size=1, image_ref=image.id))
    assert ports.volumes.get(volume.id).bootable is False  # type: ignore[union-attr]  # not until it is made
    assert [j.payload for j in ports.jobs.for_resource(volume.id)] == [{"image_id": image.id}]
    drain(ports)
    made = ports.volumes.get(volume.id)
    assert made is not None and (made.status, made.bootable) == ("available", True)
    assert made.image_metadata == {
        "image_id": image.id, "image_name": "cirros", "checksum": image.checksum, "container_format": "bare",
        "disk_format": "raw", "min_disk": "0", "min_ram": "64", "size": "4096", "os_distro": "cirros",
    }  # fmt: skip


def test_the_size_defaults_to_what_holds_the_image(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member, min_disk=3)
    assert request_create(ports, member, CreateRequest(size=None, image_ref=image.id)).size == 3


def test_a_reference_may_be_a_url_or_a_unique_name(ports: Ports, member: Caller) -> None:
    image = active_image(ports, member, name="unique")
    url = f"http://glance/v2/images/{image.id}"
    assert request_create(ports, member, CreateRequest(size=1, image_ref=url)).size == 1
    assert request_create(ports, member, CreateRequest(size=1, image_ref="unique")).size == 1
    active_image(ports, member, name="twice")
    active_image(ports, member, name="twice")
    with pytest.raises(Conflict, match="Multiple matches found for 'twice'"):
        request_create(ports, member, CreateRequest(size=1, image_ref="twice"))


def test_an_image_the_caller_cannot_see_is_an_invalid_reference(ports: Ports, member: Caller, node: Node) -> None:
    image = active_image(ports, member, visibility="private")
    outsider = caller_in(node, "beta")
    for ref in (image.id, "no-such-image"):
        with pytest.raises(InvalidInput, match="Invalid image identifier or unable to access requested image"):
            request_create(ports, outsider, CreateRequest(size=1, image_ref=ref))


def test_the_image_must_be_active(ports: Ports, member: Caller, admin_caller: Caller) -> None:
    queued = create_image(ports, member, ImageSpec(disk_format="raw", container_format="bare"))
    with pytest.raises(InvalidInput, match=f"Image {queued.id} is not active"):
        request_create(ports, member, CreateRequest(size=1, image_ref=queued.id))
    image = active_image(ports, member)
    deactivate_image(ports, admin_caller, image.id)
    with pytest.raises(InvalidInput, match=f"Image {image.id} is not active"):
        request_create(ports, member, CreateRequest(size=1, image_ref=image.id))


def test_the_volume_must_hold_the_image(ports: Ports, member: Caller) -> None:
    big = active_image(ports, member, min_disk=2)
    with pytest.raises(InvalidInput, match="Volume size 1GB cannot be smaller than the image minDisk size 2GB"):
        request_create(ports, member, CreateRequest(size=1, image_ref=big.id))
    large = active_image(ports, member)
    ports.image_service().records.transition(large.id, {"active"}, "active", size=GiB + 1, virtual_size=3 * GiB)
    with pytest.raises(InvalidInput, match="Size of specified image 2GB is larger than volume size 1GB"):
        request_create(ports, member, CreateRequest(size=1, image_ref=large.id))
    with pytest.raises(InvalidInput, match="Image virtual size is 3GB and doesn't fit in a volume of size 2GB"):
        request_create(ports, member, CreateRequest(size=2, image_ref=large.id))


def test_an_image_deactivated_after_the_request_fails_the_volume(
    ports: Ports, member: Caller, admin_caller: Caller
) -> None:
    image = active_image(ports, member)
    volume = request_create(ports, member, CreateRequest(size=1, image_ref=image.id))
    deactivate_image(ports, admin_caller, image.id)
    drain(ports)
    failed = ports.volumes.get(volume.id)
    assert failed is not None and failed.status == VolumeStatus.ERROR
    assert failed.error_reason == f"image {image.id} is no longer available"

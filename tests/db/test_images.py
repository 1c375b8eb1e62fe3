"""ImageRepository on the real database: rows, properties and tags, reach, and the upload's one transaction."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from firebrick.domain.image.create import ImageSpec, new_image
from firebrick.domain.jobs import new_job
from firebrick.domain.model import Caller, Page
from firebrick.domain.ports import Ports
from firebrick.domain.volume.create import CreateRequest, request_create
from firebrick.domain.volume.states import VolumeStatus
from firebrick.domain.volume.upload_image import UPLOAD
from tests.fixtures_domain import drain


def test_an_image_round_trips_with_its_properties_and_tags(ports: Ports, member: Caller) -> None:
    records = ports.image_service().records
    image = new_image(ports, member, ImageSpec(name="n", tags=("b", "a"), properties={"k": "v" * 1000}))
    records.insert(image)
    assert records.get(image.id) == dataclasses.replace(image, tags=("a", "b"))
    records.update(image.id, {"min_ram": 5}, {"k2": "v2"}, ["k"], ["c"])
    changed = records.get(image.id)
    assert changed is not None and (changed.min_ram, changed.properties, changed.tags) == (5, {"k2": "v2"}, ("c",))
    assert changed.updated_at is not None


def test_reach_admits_any_of_its_pairs(ports: Ports, member: Caller) -> None:
    records = ports.image_service().records
    for owner, visibility in (("p1", "private"), ("p2", "public"), ("p2", "private"), ("p3", "community")):
        spec = ImageSpec(name=f"{owner}-{visibility}", owner=owner, visibility=visibility)
        records.insert(new_image(ports, member, spec))
    found = records.find(Page(), [(None, "p1"), (frozenset({"public"}), None)])
    assert {i.name for i in found} == {"p1-private", "p2-public"}
    assert len(records.find(Page(), None)) == 4
    assert records.find(Page(), []) == []


def test_delete_can_be_limited_to_statuses(ports: Ports, member: Caller) -> None:
    records = ports.image_service().records
    image = new_image(ports, member, ImageSpec())
    records.insert(image)
    assert not records.delete(image.id, only_in={"saving"})
    assert records.delete(image.id, only_in={"queued"})
    assert not records.delete(image.id)


def test_the_image_the_volume_move_and_the_job_land_together_or_not_at_all(ports: Ports, member: Caller) -> None:
    volume = request_create(ports, member, CreateRequest(size=1))
    records = ports.image_service().records
    image = new_image(ports, member, ImageSpec())
    refused = records.insert_with_volume_move(
        image, volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.UPLOADING, new_job(ports, UPLOAD, volume.id)
    )
    assert not refused and records.get(image.id) is None  # still creating: nothing written
    drain(ports)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: records.insert_with_volume_move(
            new_image(ports, member, ImageSpec()), volume.id, {VolumeStatus.AVAILABLE}, VolumeStatus.UPLOADING,
            new_job(ports, UPLOAD, volume.id), previous_status=VolumeStatus.AVAILABLE,
        ), range(4)))  # fmt: skip
    assert results.count(True) == 1
    assert len(records.find(Page(), None)) == 1 and len(ports.jobs.for_resource(volume.id)) == 1

"""Attach and detach through python-cinderclient: the legacy actions and the attachments API (3.54)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cinderclient import exceptions

from tests.clients.test_cinderclient import Cinder, driver, keystone_session
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, RunningServer


@pytest.fixture(scope="module")
def demo(server: RunningServer) -> Iterator[Cinder]:
    sess = keystone_session(server, "demo", DEMO_PASSWORD, "demo")
    yield Cinder(sess, "3.54")
    sess.session.close()


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Iterator[Cinder]:
    sess = keystone_session(server, "admin", ADMIN_PASSWORD, "admin")
    yield Cinder(sess, "3.54")
    sess.session.close()


def test_legacy_attach_detach_reserve(demo: Cinder) -> None:
    volumes = demo.client.volumes
    volume = demo.available_volume()
    try:
        volumes.reserve(volume)
        assert volumes.get(volume.id).status == "attaching"
        with pytest.raises(exceptions.BadRequest):
            volumes.reserve(volume)
        volumes.unreserve(volume)
        assert volumes.get(volume.id).status == "available"

        server_id = str(uuid.uuid4())
        volumes.attach(volume, server_id, "/dev/vdb", mode="rw")
        attached = volumes.get(volume.id)
        assert attached.status == "in-use" and attached.attachments[0]["server_id"] == server_id
        volumes.detach(volume, attachment_uuid=attached.attachments[0]["attachment_id"])
        assert volumes.get(volume.id).status == "available"
    finally:
        demo.delete_volume(volume.id)


def test_attachments_api_round_trip(server: RunningServer, demo: Cinder, admin: Cinder) -> None:
    volume = demo.available_volume()
    try:
        # cinderclient hands the created attachment back as a plain dict.
        attachment = demo.client.attachments.create(volume.id, None, instance_id=str(uuid.uuid4()), mode="rw")
        assert attachment["status"] == "reserved" and attachment["attach_mode"] == "rw"
        connector = {"host": "compute-1", "initiator": "iqn.x", "mountpoint": "/dev/vdc"}
        updated = demo.client.attachments.update(attachment["id"], connector)
        assert updated.connection_info["data"]["device_path"] == str(driver(server).volume_path(volume.id))
        demo.client.attachments.complete(attachment["id"])
        assert demo.client.volumes.get(volume.id).status == "in-use"
        listed = demo.client.attachments.list(search_opts={"volume_id": volume.id})
        assert [a.id for a in listed] == [attachment["id"]]
        # The user may not pull a connected volume from its server (bug #2004555).
        with pytest.raises(exceptions.ClientException) as refused:
            demo.client.attachments.delete(attachment["id"])
        assert refused.value.code == 409
        assert demo.client.volumes.get(volume.id).status == "in-use"
    finally:
        # What an operator does for a server that is gone: reset, which drops the attachment rows.
        admin.client.volumes.reset_state(volume, "available", attach_status="detached")
        demo.delete_volume(volume.id)


def test_force_detach_by_admin(demo: Cinder, admin: Cinder) -> None:
    volume = demo.available_volume()
    try:
        demo.client.volumes.attach(volume, str(uuid.uuid4()), "/dev/vdb")
        attachment_id = demo.client.volumes.get(volume.id).attachments[0]["attachment_id"]
        admin.client.volumes.reset_state(volume, "error")
        # cinderclient has no method of its own for this admin action; its generic one sends it.
        body = {"attachment_id": attachment_id, "connector": None}
        with pytest.raises(exceptions.Forbidden):
            demo.client.volumes._action("os-force_detach", volume, body)
        admin.client.volumes._action("os-force_detach", volume, body)
        shown = demo.client.volumes.get(volume.id)
        assert shown.status == "available" and shown.attachments == []
    finally:
        demo.delete_volume(volume.id)

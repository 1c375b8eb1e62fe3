"""Deactivate and reactivate (the owner's members, or an admin: Glance's current defaults), and a
deactivated image's data is an admin's alone."""

from __future__ import annotations

from tests.api.image._helpers import create_image, glance_fault, image_call, upload
from tests.conftest import ApiClient


def test_deactivate_and_reactivate(demo: ApiClient, admin: ApiClient, other: ApiClient) -> None:
    image = create_image(demo, visibility="community")
    upload(demo, image["id"], b"bits")
    deactivate, reactivate = f"/images/{image['id']}/actions/deactivate", f"/images/{image['id']}/actions/reactivate"
    glance_fault(image_call(other, "POST", deactivate), 403)  # it sees the image, but is not its owner
    assert image_call(demo, "POST", deactivate).status_code == 204
    assert image_call(demo, "GET", f"/images/{image['id']}").json()["status"] == "deactivated"
    assert "deactivated" in glance_fault(image_call(demo, "GET", f"/images/{image['id']}/file"), 403)
    assert image_call(admin, "GET", f"/images/{image['id']}/file").content == b"bits"
    glance_fault(image_call(other, "POST", reactivate), 403)
    assert image_call(admin, "POST", reactivate).status_code == 204
    assert image_call(demo, "GET", f"/images/{image['id']}").json()["status"] == "active"
    assert image_call(demo, "POST", deactivate).status_code == 204
    assert image_call(demo, "POST", reactivate).status_code == 204


def test_only_an_image_with_data_can_be_deactivated(demo: ApiClient, admin: ApiClient) -> None:
    image = create_image(demo)
    message = glance_fault(image_call(admin, "POST", f"/images/{image['id']}/actions/deactivate"), 403)
    assert message == "Not allowed to deactivate image in status 'queued'"
    glance_fault(image_call(admin, "POST", "/images/00000000-0000-0000-0000-000000000000/actions/deactivate"), 404)

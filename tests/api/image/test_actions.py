"""Deactivate and reactivate: admin-only by default, and a deactivated image's data is the admin's alone."""

from __future__ import annotations

from tests.api.image._helpers import create_image, glance_fault, image_call, upload
from tests.conftest import ApiClient


def test_deactivate_and_reactivate(demo: ApiClient, admin: ApiClient) -> None:
    image = create_image(demo)
    upload(demo, image["id"], b"bits")
    deactivate, reactivate = f"/images/{image['id']}/actions/deactivate", f"/images/{image['id']}/actions/reactivate"
    glance_fault(image_call(demo, "POST", deactivate), 403)
    assert image_call(admin, "POST", deactivate).status_code == 204
    assert image_call(demo, "GET", f"/images/{image['id']}").json()["status"] == "deactivated"
    assert "deactivated" in glance_fault(image_call(demo, "GET", f"/images/{image['id']}/file"), 403)
    assert image_call(admin, "GET", f"/images/{image['id']}/file").content == b"bits"
    glance_fault(image_call(demo, "POST", reactivate), 403)
    assert image_call(admin, "POST", reactivate).status_code == 204
    assert image_call(demo, "GET", f"/images/{image['id']}").json()["status"] == "active"


def test_only_an_image_with_data_can_be_deactivated(demo: ApiClient, admin: ApiClient) -> None:
    image = create_image(demo)
    message = glance_fault(image_call(admin, "POST", f"/images/{image['id']}/actions/deactivate"), 403)
    assert message == "Not allowed to deactivate image in status 'queued'"
    glance_fault(image_call(admin, "POST", "/images/00000000-0000-0000-0000-000000000000/actions/deactivate"), 404)

"""``/v3/domains``: the one domain, ``default``, to list (by name) and show."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.identity._common import IdentityCall, collection, enabled_filter, identity_endpoint
from firebrick.api.identity._views import DOMAIN, domain_view
from firebrick.errors import NotFound

__all__ = ["index", "show"]


@identity_endpoint
def index(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:list_domains")
    name, enabled = request.query_params.get("name"), enabled_filter(request)
    matches = name in (None, DOMAIN["name"]) and enabled in (None, DOMAIN["enabled"])
    return JSONResponse(collection(request, "domains", [domain_view(call.url())] if matches else []))


@identity_endpoint
def show(request: Request, call: IdentityCall) -> Response:
    call.authorize("identity:get_domain")
    domain_id = request.path_params["domain_id"]
    if domain_id != DOMAIN["id"]:
        raise NotFound("Domain", domain_id, f"Could not find domain: {domain_id}.")
    return JSONResponse({"domain": domain_view(call.url())})

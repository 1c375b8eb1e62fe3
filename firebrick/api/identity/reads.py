"""The identity reads clients make after authenticating: versions, projects, users, roles."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._json import JSONResponse
from firebrick.api.identity._common import caller, identity_node
from firebrick.api.identity.catalog import catalog
from firebrick.domain.model import Project, User
from firebrick.errors import Forbidden, NotFound

__all__ = [
    "auth_catalog",
    "auth_projects",
    "domain",
    "project",
    "projects",
    "roles",
    "root",
    "user",
    "user_projects",
    "v3",
]

_DOMAIN = {"id": "default", "name": "Default", "description": "The default domain", "enabled": True}


def _version(request: Request) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{identity_node(request).settings.public_url}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


async def root(request: Request) -> Response:
    return JSONResponse({"versions": {"values": [_version(request)]}}, 300)


async def v3(request: Request) -> Response:
    return JSONResponse({"version": _version(request)})


def _project_view(request: Request, found: Project) -> dict[str, Any]:
    base = identity_node(request).settings.public_url
    return {
        "id": found.id,
        "name": found.name,
        "domain_id": found.domain_id,
        "description": found.description,
        "enabled": found.enabled,
        "is_domain": False,
        "parent_id": found.domain_id,
        "tags": [],
        "links": {"self": f"{base}/identity/v3/projects/{found.id}"},
    }


def _user_view(request: Request, found: User) -> dict[str, Any]:
    base = identity_node(request).settings.public_url
    return {
        "id": found.id,
        "name": found.name,
        "domain_id": found.domain_id,
        "enabled": found.enabled,
        "default_project_id": found.default_project_id,
        "password_expires_at": None,
        "links": {"self": f"{base}/identity/v3/users/{found.id}"},
    }


async def auth_projects(request: Request) -> Response:
    who = caller(request)
    found = identity_node(request).repos.identity.user_projects(who.user_id)
    return JSONResponse(
        {
            "projects": [_project_view(request, p) for p in found],
            "links": {"self": str(request.url), "next": None, "previous": None},
        }
    )


async def auth_catalog(request: Request) -> Response:
    who = caller(request)
    settings = identity_node(request).settings
    return JSONResponse({"catalog": catalog(settings.public_url, settings.region, who.project_id)})


async def projects(request: Request) -> Response:
    who = caller(request)
    repo = identity_node(request).repos.identity
    found = repo.projects() if who.is_admin else repo.user_projects(who.user_id)
    name = request.query_params.get("name")
    found = [p for p in found if name is None or p.name == name]
    return JSONResponse(
        {
            "projects": [_project_view(request, p) for p in found],
            "links": {"self": str(request.url), "next": None, "previous": None},
        }
    )


async def project(request: Request) -> Response:
    who = caller(request)
    project_id = request.path_params["project_id"]
    found = identity_node(request).repos.identity.project(project_id=project_id)
    if found is None:
        raise NotFound("Project", project_id, f"Could not find project: {project_id}.")
    if not who.is_admin and who.project_id != found.id:
        raise Forbidden("identity:get_project")
    return JSONResponse({"project": _project_view(request, found)})


async def user(request: Request) -> Response:
    who = caller(request)
    user_id = request.path_params["user_id"]
    if not who.is_admin and who.user_id != user_id:
        raise Forbidden("identity:get_user")
    found = identity_node(request).repos.identity.user(user_id=user_id)
    if found is None:
        raise NotFound("User", user_id, f"Could not find user: {user_id}.")
    return JSONResponse({"user": _user_view(request, found)})


async def user_projects(request: Request) -> Response:
    who = caller(request)
    user_id = request.path_params["user_id"]
    if not who.is_admin and who.user_id != user_id:
        raise Forbidden("identity:list_user_projects")
    found = identity_node(request).repos.identity.user_projects(user_id)
    return JSONResponse(
        {
            "projects": [_project_view(request, p) for p in found],
            "links": {"self": str(request.url), "next": None, "previous": None},
        }
    )


async def roles(request: Request) -> Response:
    caller(request)
    found = identity_node(request).repos.identity.roles()
    return JSONResponse({"roles": [{"id": r.id, "name": r.name, "domain_id": None} for r in found]})


async def domain(request: Request) -> Response:
    caller(request)
    if request.path_params["domain_id"] != "default":
        raise NotFound("Domain", request.path_params["domain_id"])
    return JSONResponse({"domain": _DOMAIN})

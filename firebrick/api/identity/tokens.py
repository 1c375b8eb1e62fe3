"""``/v3/auth/tokens``: issue (password or token) and validate, with the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from firebrick.api._call import off_loop, request_node
from firebrick.api._json import JSONResponse, json_body
from firebrick.api.identity._common import keystone_time
from firebrick.api.identity.catalog import catalog
from firebrick.api.validation import Schema
from firebrick.domain.identity import ProjectScope, TokenClaims, subjects
from firebrick.errors import InvalidInput, NotAuthenticated, NotFound

if TYPE_CHECKING:
    from firebrick.node import Node

__all__ = ["issue", "validate"]

_DENIED = "The request you have made requires authentication."

_NAMED = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
_AUTH = Schema(
    {
        "type": "object",
        "required": ["auth"],
        "properties": {
            "auth": {
                "type": "object",
                "required": ["identity"],
                "properties": {
                    "identity": {
                        "type": "object",
                        "required": ["methods"],
                        "properties": {
                            "methods": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            "password": {
                                "type": "object",
                                "required": ["user"],
                                "properties": {
                                    "user": {
                                        "type": "object",
                                        "required": ["password"],
                                        "properties": {
                                            "id": {"type": "string"},
                                            "name": {"type": "string"},
                                            "password": {"type": "string"},
                                            "domain": _NAMED,
                                        },
                                    }
                                },
                            },
                            "token": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                        },
                    },
                    "scope": {"type": ["object", "string"]},
                },
            }
        },
    }
)


@off_loop
def issue(request: Request) -> Response:
    """No token needed: this is where one is made (or re-scoped from another)."""
    body = json_body(request)
    _AUTH.check(body)
    node = request_node(request)
    identity, scope = body["auth"]["identity"], _scope(body["auth"].get("scope"))
    if "password" in identity["methods"] and "password" in identity:
        user = identity["password"]["user"]
        if not _in_default_domain(user.get("domain")):
            raise NotAuthenticated(_DENIED)
        token, claims = node.identity.password_login(user.get("id"), user.get("name"), user["password"], scope)
    elif "token" in identity["methods"] and "token" in identity:
        token, claims = node.identity.token_login(identity["token"]["id"], scope)
    else:
        raise InvalidInput(
            "Expecting to find identity in auth - the server could not comply with the request "
            "since it is either malformed or otherwise incorrect."
        )
    return JSONResponse(token_body(node, claims), 201, headers={"X-Subject-Token": token})


def _scope(scope: Any) -> ProjectScope | None:
    if not isinstance(scope, dict) or "project" not in scope:
        return None
    project = scope["project"]
    if not _in_default_domain(project.get("domain")):
        raise NotAuthenticated(_DENIED)
    return ProjectScope(project_id=project.get("id"), name=project.get("name"))


def _in_default_domain(named: Any) -> bool:
    """Only the default domain exists: naming another cannot authenticate (Keystone answers 401)."""
    if not isinstance(named, dict):
        return True
    return bool(named.get("id", "default") == "default" and named.get("name", "Default") == "Default")


@off_loop
def validate(request: Request) -> Response:
    node = request_node(request)
    caller_token, subject = request.headers.get("x-auth-token"), request.headers.get("x-subject-token")
    if not caller_token:
        raise NotAuthenticated(_DENIED)
    node.identity.validate(caller_token)
    # As Keystone: the caller is authenticated; a missing, forged or expired subject token is 404.
    if not subject:
        raise NotFound("Token", "", "No token in the request")
    try:
        _, claims = node.identity.validate(subject)
    except NotAuthenticated as error:
        raise NotFound("Token", "", "Failed to validate token") from error
    headers = {"X-Subject-Token": subject}
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers)
    return JSONResponse(token_body(node, claims), headers=headers)


def token_body(node: Node, claims: TokenClaims) -> dict[str, Any]:
    """Keystone's token body, with the catalog. Raises NotAuthenticated when the user or project is gone."""
    subject = subjects.token_subject(node.identity, claims)
    user, project = subject.user, subject.project
    domain = {"id": "default", "name": "Default"}
    settings = node.settings
    return {
        "token": {
            "methods": list(claims.methods),
            "user": {"domain": domain, "id": user.id, "name": user.name, "password_expires_at": None},
            "audit_ids": [claims.audit_id],
            "expires_at": keystone_time(claims.expires_at),
            "issued_at": keystone_time(claims.issued_at),
            "project": {"domain": domain, "id": project.id, "name": project.name},
            "is_domain": False,
            "roles": [{"id": r.id, "name": r.name} for r in subject.roles],
            "catalog": catalog(settings.public_url, settings.region, project.id),
        }
    }

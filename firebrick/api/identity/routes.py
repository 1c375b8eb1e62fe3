"""The Identity v3 route table, mounted at ``/identity``."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from firebrick.api.identity import domains, grants, projects, reads, role_assignments, roles, tokens, users

__all__ = ["routes"]

_GRANT = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"


def routes() -> list[BaseRoute]:
    return [
        Route("/", reads.root, methods=["GET"]),
        Route("/v3", reads.v3, methods=["GET"]),
        Route("/v3/", reads.v3, methods=["GET"]),
        Route("/v3/auth/tokens", tokens.issue, methods=["POST"]),
        Route("/v3/auth/tokens", tokens.validate, methods=["GET", "HEAD"]),
        Route("/v3/auth/projects", reads.auth_projects, methods=["GET"]),
        Route("/v3/auth/catalog", reads.auth_catalog, methods=["GET"]),
        Route("/v3/projects", projects.index, methods=["GET"]),
        Route("/v3/projects", projects.create, methods=["POST"]),
        Route("/v3/projects/{project_id}", projects.show, methods=["GET"]),
        Route("/v3/projects/{project_id}", projects.update, methods=["PATCH"]),
        Route("/v3/projects/{project_id}", projects.delete, methods=["DELETE"]),
        Route("/v3/projects/{project_id}/users/{user_id}/roles", grants.index, methods=["GET"]),
        Route(_GRANT, grants.check, methods=["GET", "HEAD"]),
        Route(_GRANT, grants.grant, methods=["PUT"]),
        Route(_GRANT, grants.revoke, methods=["DELETE"]),
        Route("/v3/users", users.index, methods=["GET"]),
        Route("/v3/users", users.create, methods=["POST"]),
        Route("/v3/users/{user_id}", users.show, methods=["GET"]),
        Route("/v3/users/{user_id}", users.update, methods=["PATCH"]),
        Route("/v3/users/{user_id}", users.delete, methods=["DELETE"]),
        Route("/v3/users/{user_id}/projects", users.user_projects, methods=["GET"]),
        Route("/v3/users/{user_id}/password", users.change_password, methods=["POST"]),
        Route("/v3/roles", roles.index, methods=["GET"]),
        Route("/v3/roles", roles.create, methods=["POST"]),
        Route("/v3/roles/{role_id}", roles.show, methods=["GET"]),
        Route("/v3/roles/{role_id}", roles.update, methods=["PATCH"]),
        Route("/v3/roles/{role_id}", roles.delete, methods=["DELETE"]),
        Route("/v3/role_assignments", role_assignments.index, methods=["GET"]),
        Route("/v3/domains", domains.index, methods=["GET"]),
        Route("/v3/domains/{domain_id}", domains.show, methods=["GET"]),
    ]

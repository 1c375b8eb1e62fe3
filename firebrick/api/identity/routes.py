"""The Identity v3 route table, mounted at ``/identity``."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from firebrick.api.identity import reads, tokens

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [
        Route("/", reads.root, methods=["GET"]),
        Route("/v3", reads.v3, methods=["GET"]),
        Route("/v3/", reads.v3, methods=["GET"]),
        Route("/v3/auth/tokens", tokens.issue, methods=["POST"]),
        Route("/v3/auth/tokens", tokens.validate, methods=["GET", "HEAD"]),
        Route("/v3/auth/projects", reads.auth_projects, methods=["GET"]),
        Route("/v3/auth/catalog", reads.auth_catalog, methods=["GET"]),
        Route("/v3/projects", reads.projects, methods=["GET"]),
        Route("/v3/projects/{project_id}", reads.project, methods=["GET"]),
        Route("/v3/users/{user_id}", reads.user, methods=["GET"]),
        Route("/v3/users/{user_id}/projects", reads.user_projects, methods=["GET"]),
        Route("/v3/roles", reads.roles, methods=["GET"]),
        Route("/v3/domains/{domain_id}", reads.domain, methods=["GET"]),
    ]

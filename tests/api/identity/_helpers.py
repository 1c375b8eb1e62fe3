"""Raw HTTP against ``/identity/v3`` as one user, and fresh accounts made through the API itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import RunningServer, token_for


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Keystone:
    """One user's token against ``/identity/v3``; ``request`` returns the raw response."""

    def __init__(self, server: RunningServer, token: str) -> None:
        self.server = server
        self.token = token
        self.http = httpx.Client(base_url=f"{server.url}/identity/v3", headers={"X-Auth-Token": token})

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()


@dataclass
class Account:
    """A user made through the API, with one role on a project made through the API."""

    user_id: str
    user_name: str
    password: str
    project_id: str
    project_name: str

    def token(self, server: RunningServer) -> str:
        return token_for(server.url, self.user_name, self.password, self.project_name)


def keystone_error(response: httpx.Response, status: int) -> str:
    """The message of a Keystone error body, after checking its shape."""
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["title"]) == (status, titles[status])
    message: str = error["message"]
    return message


def role_id(admin: Keystone, name: str) -> str:
    found = admin.ok("GET", "/roles", params={"name": name})["roles"]
    assert len(found) == 1, found
    role: str = found[0]["id"]
    return role


def provision(admin: Keystone, *roles: str) -> Account:
    """A new project and a new user holding ``roles`` (default member) on it, all through the API."""
    project = admin.ok("POST", "/projects", 201, json={"project": {"name": unique("proj")}})["project"]
    password = uuid.uuid4().hex
    user = admin.ok("POST", "/users", 201, json={"user": {"name": unique("user"), "password": password}})["user"]
    for name in roles or ("member",):
        admin.ok("PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role_id(admin, name)}", 204)
    return Account(user["id"], user["name"], password, project["id"], project["name"])


def discard(admin: Keystone, account: Account) -> None:
    for path in (f"/users/{account.user_id}", f"/projects/{account.project_id}"):
        assert admin.request("DELETE", path).status_code in (204, 404)

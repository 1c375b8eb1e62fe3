"""First start on an empty data directory: the bootstrap accounts and ``clouds.yaml``."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from firebrick.config import Settings
from firebrick.db import IdentityRepository
from firebrick.domain.identity import Account, bootstrap, ensure_account

__all__ = ["SERVICE_PROJECT", "SERVICE_USER", "ensure_service_account", "prepare", "write_clouds_yaml"]

# The account the node acts as toward other services (Cinder's and Nova's service user);
# its password is never used: the node mints its tokens itself.
SERVICE_USER, SERVICE_PROJECT = "firebrick-service", "service"


def prepare(settings: Settings, identity: IdentityRepository) -> bool:
    """Bootstrap when no admin exists yet and write ``clouds.yaml``; True if it did."""
    if identity.user(name="admin") is not None:
        return False
    admin = Account("admin", "admin", settings.admin_password or secrets.token_urlsafe(18), ("admin",))
    demo = Account("demo", "demo", settings.demo_password or secrets.token_urlsafe(18), ("member",))
    bootstrap(identity, admin, demo)
    write_clouds_yaml(settings.data_dir / "clouds.yaml", settings.public_url, settings.region, admin, demo)
    return True


def ensure_service_account(identity: IdentityRepository) -> None:
    account = Account(SERVICE_USER, SERVICE_PROJECT, secrets.token_urlsafe(24), ("admin", "service"))
    ensure_account(identity, account)


def write_clouds_yaml(path: Path, public_url: str, region: str, admin: Account, demo: Account) -> None:
    """A clouds.yaml with ``firebrick`` (demo, member) and ``firebrick-admin``; readable by its owner only."""
    entries = {"firebrick": demo, "firebrick-admin": admin}
    lines = ["clouds:"]
    for cloud, account in entries.items():
        lines += [
            f"  {cloud}:",
            "    auth:",
            f"      auth_url: {public_url}/identity/v3",
            f"      username: {account.user_name}",
            f"      password: {json.dumps(account.password)}",
            f"      project_name: {account.project_name}",
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            f"    region_name: {region}",
            "    identity_api_version: 3",
            "    volume_api_version: 3",
            "    interface: public",
        ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")

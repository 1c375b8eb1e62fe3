"""Users, as Keystone keeps them: in the default domain, with a scrypt-hashed password.

Changing a user's password or disabling it voids every token issued to it before (Keystone
records a revocation event for the user); deleting a user removes its role assignments, which
voids its tokens too. Attributes Keystone does not know (``email``, ``description``, the
``project_id`` tempest sets) are kept in ``extra`` and shown back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from firebrick.clock import utcnow
from firebrick.domain.identity._rules import (
    DEFAULT_DOMAIN,
    check_domain,
    check_options,
    duplicate,
    extra_changes,
    refuse_change,
)
from firebrick.domain.identity.bootstrap import new_id
from firebrick.domain.identity.passwords import hash_password, verify_password
from firebrick.domain.model import User
from firebrick.errors import Conflict, NotAuthenticated, NotFound

if TYPE_CHECKING:
    from firebrick.domain.identity.service import IdentityService

__all__ = ["change_password", "create_user", "delete_user", "get_user", "list_users", "update_user"]

_FIELDS = frozenset({"id", "name", "password", "enabled", "domain_id", "default_project_id", "options"})
# The stored hash of a user created without a password: no password verifies against it.
_NO_PASSWORD = ""


def get_user(identity: IdentityService, user_id: str) -> User:
    """Raises NotFound when no user has that id."""
    found = identity.repository.user(user_id=user_id)
    if found is None:
        raise NotFound("User", user_id, f"Could not find user: {user_id}.")
    return found


def list_users(
    identity: IdentityService, name: str | None = None, domain_id: str | None = None, enabled: bool | None = None
) -> list[User]:
    """Every user matching the filters; another domain than ``default`` has none."""
    if domain_id is not None and domain_id != DEFAULT_DOMAIN:
        return []
    return identity.repository.users(name=name, enabled=enabled)


def create_user(identity: IdentityService, body: Mapping[str, Any]) -> User:
    """Create a user from a Keystone ``user`` body (scrypt: call it off the event loop).

    A user without a password cannot authenticate until one is set. ``default_project_id``
    is kept as given, as Keystone keeps it, whether or not the project exists.

    Raises:
        NotFound: another domain than the default.
        InvalidInput: a resource option turned on.
        Conflict: the name is taken in the domain.
    """
    domain_id = check_domain(body.get("domain_id"))
    check_options(body)
    password = body.get("password")
    user = User(
        new_id(),
        body["name"],
        hash_password(password) if password is not None else _NO_PASSWORD,
        domain_id,
        body.get("default_project_id"),
        body.get("enabled", True),
        {key: value for key, value in body.items() if key not in _FIELDS},
    )
    if identity.repository.user(name=user.name) is not None:
        raise duplicate("user", user.name, domain_id)
    try:
        identity.repository.add_user(user)
    except Conflict as error:  # a concurrent create took the name
        raise duplicate("user", user.name, domain_id) from error
    return user


def update_user(identity: IdentityService, user_id: str, body: Mapping[str, Any]) -> User:
    """Apply a Keystone ``user`` PATCH body (scrypt when it sets a password: off the event loop).

    Raises:
        NotFound: no such user.
        InvalidInput: the body tries to change the id or the domain, or turns on an option.
        Conflict: the new name is taken.
    """
    current = get_user(identity, user_id)
    refuse_change(body, "id", current.id)
    refuse_change(body, "domain_id", current.domain_id)
    check_options(body)
    fields: dict[str, Any] = {k: body[k] for k in ("name", "enabled", "default_project_id") if k in body}
    if "password" in body:
        fields["password_hash"] = hash_password(body["password"]) if body["password"] is not None else _NO_PASSWORD
    if "password" in body or (current.enabled and fields.get("enabled") is False):
        fields["tokens_valid_after"] = utcnow()
    extra = extra_changes(current.extra, body, _FIELDS)
    if extra is not None:
        fields["extra"] = extra
    name = fields.get("name", current.name)
    if name != current.name and identity.repository.user(name=name) is not None:
        raise duplicate("user", name, current.domain_id)
    if fields:
        try:
            identity.repository.update_user(current.id, **fields)
        except Conflict as error:
            raise duplicate("user", name, current.domain_id) from error
        identity.forget_access()
    return get_user(identity, current.id)


def change_password(identity: IdentityService, user_id: str, original: str, password: str) -> None:
    """A user's own password change, proven by the current one (scrypt: off the event loop).

    Raises NotAuthenticated for an unknown or disabled user or a wrong original password.
    """
    user = identity.repository.user(user_id=user_id)
    if user is None or not user.enabled or not verify_password(original, user.password_hash):
        raise NotAuthenticated("The request you have made requires authentication.")
    identity.repository.update_user(user.id, password_hash=hash_password(password), tokens_valid_after=utcnow())
    identity.forget_access()


def delete_user(identity: IdentityService, user_id: str) -> None:
    """Delete the user and its role assignments; its tokens stop working. Raises NotFound."""
    if not identity.repository.delete_user(user_id):
        raise NotFound("User", user_id, f"Could not find user: {user_id}.")
    identity.forget_access()

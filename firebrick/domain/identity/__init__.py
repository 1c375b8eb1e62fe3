"""Identity: password and token authentication, roles, the bootstrap accounts, and the
administration of projects, users, roles and role assignments (``projects``, ``users``,
``roles``: one module each)."""

from __future__ import annotations

from firebrick.domain.identity.bootstrap import ROLE_NAMES, Account, bootstrap, ensure_account, new_id
from firebrick.domain.identity.service import IMPLIED_ROLES, IdentityService, ProjectScope
from firebrick.domain.identity.tokens import TokenClaims, TokenSigner

__all__ = [
    "IMPLIED_ROLES",
    "ROLE_NAMES",
    "Account",
    "IdentityService",
    "ProjectScope",
    "TokenClaims",
    "TokenSigner",
    "bootstrap",
    "ensure_account",
    "new_id",
]

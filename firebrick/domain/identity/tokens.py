"""Signed, self-contained tokens (like Keystone's Fernet tokens: nothing stored).

A token is ``<payload>.<signature>``, both base64url; the payload names the
user, the project, the auth methods and the expiry. Only a holder of the key
(kept in the data directory) can make one; roles are looked up at validation,
so removing a role takes effect without revoking tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from firebrick.clock import utcnow
from firebrick.domain.identity import _b64
from firebrick.errors import NotAuthenticated

__all__ = ["TokenClaims", "TokenSigner"]

_MAX_VERIFIED = 10_000


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    project_id: str
    methods: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audit_id: str


class TokenSigner:
    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self._key = key
        self._ttl = timedelta(seconds=ttl_seconds)
        # Tokens whose signature was already checked: clients send the same one on every call.
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self, user_id: str, project_id: str, methods: tuple[str, ...], expires_at: datetime | None = None
    ) -> tuple[str, TokenClaims]:
        """A new token; a token re-scoped from another keeps that one's expiry."""
        now = utcnow()
        claims = TokenClaims(
            user_id, project_id, methods, now, expires_at or now + self._ttl, secrets.token_urlsafe(16)[:22]
        )
        payload = json.dumps(
            [
                claims.user_id,
                claims.project_id,
                list(methods),
                claims.issued_at.isoformat(),
                claims.expires_at.isoformat(),
                claims.audit_id,
            ],
            separators=(",", ":"),
        ).encode()
        body = _b64.encode(payload)
        return f"{body}.{self._sign(body)}", claims

    def verify(self, token: str) -> TokenClaims:
        """Raises NotAuthenticated when the token is forged, malformed or expired."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._check_signature(token)
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified.clear()
            self._verified[token] = claims
        if claims.expires_at <= utcnow():
            raise NotAuthenticated("The request you have made requires authentication.")
        return claims

    def _check_signature(self, token: str) -> TokenClaims:
        body, _, signature = token.partition(".")
        # Bytes, not str: compare_digest refuses non-ASCII strings, and a token is client input.
        if not signature or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise NotAuthenticated("The request you have made requires authentication.")
        user_id, project_id, methods, issued, expires, audit = json.loads(_b64.decode(body))
        return TokenClaims(
            user_id, project_id, tuple(methods), datetime.fromisoformat(issued), datetime.fromisoformat(expires), audit
        )

    def _sign(self, body: str) -> str:
        return _b64.encode(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

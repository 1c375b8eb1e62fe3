"""Signed, self-contained tokens (like Keystone's Fernet tokens: nothing stored per token).

A token is ``<kid>.<payload>.<signature>``: the number of the key that signed it, then the
claims (user, project, auth methods, expiry) and an HMAC-SHA256 over ``<kid>.<payload>``, both
base64url. Roles are looked up at validation, so removing a role takes effect without revoking
tokens.

The keys live in a store every process shares (the database), so a token made by one worker is
accepted by every other. Keys are numbered 1, 2, 3…; the newest signs. A process that finds the
newest key older than ``ROTATE_AFTER`` adds the next number; two processes doing so at once
race for the same number, one insert wins and both re-read it. An older key keeps verifying
until every token it can have signed has expired (its successor's age passes the token TTL plus
``RETIRE_GRACE``), and is then deleted. Each process re-reads the keys every ``REREAD_EVERY``
and whenever a token names a key newer than the newest it knows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Protocol

from firebrick.clock import utcnow
from firebrick.domain.identity import _b64
from firebrick.errors import NotAuthenticated

__all__ = ["REREAD_EVERY", "RETIRE_GRACE", "ROTATE_AFTER", "TokenClaims", "TokenKey", "TokenKeys", "TokenSigner"]

# A day per key: long enough that keys are few (TTL / a day + 1 of them), short enough that a
# leaked key is useless a day (plus the TTL) later.
ROTATE_AFTER = timedelta(hours=24)
# Beyond the TTL, how long a retired key is kept: a process that had not re-read yet may have
# signed with it a little after its successor appeared, and host clocks differ a little.
RETIRE_GRACE = timedelta(minutes=10)
REREAD_EVERY = timedelta(seconds=60)

_MAX_VERIFIED = 10_000
_MAX_KID_DIGITS = 18  # fits a 64-bit integer column
_DENIED = "The request you have made requires authentication."


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    project_id: str
    methods: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audit_id: str


@dataclass(frozen=True, slots=True)
class TokenKey:
    kid: int
    secret: bytes = field(repr=False)  # never in a repr: values end up in tracebacks and logs
    created_at: datetime


class TokenKeys(Protocol):
    """Where the signing keys live, shared by every process that issues or checks tokens."""

    def all(self) -> list[TokenKey]:
        """Every key, oldest (lowest kid) first."""
        ...

    def add(self, key: TokenKey) -> bool:
        """Store a key; False (and nothing stored) when its kid exists already."""
        ...

    def remove(self, kids: Collection[int]) -> None:
        """Delete these keys; kids already gone are ignored."""
        ...


@dataclass(frozen=True, slots=True)
class _KeySet:
    """The keys as one process last read them."""

    keys: dict[int, TokenKey]
    newest: TokenKey
    read_at: datetime


class TokenSigner:
    """Issues and checks tokens with the keys of ``keys``; ``clock`` is the time it goes by."""

    def __init__(self, keys: TokenKeys, ttl_seconds: int, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = keys
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock
        # Read on first use, not here: a node builds its signer before it upgrades the schema.
        self._keyset: _KeySet | None = None
        self._reading = threading.Lock()
        # Tokens whose signature was already checked: clients send the same one on every call.
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self, user_id: str, project_id: str, methods: tuple[str, ...], expires_at: datetime | None = None
    ) -> tuple[str, TokenClaims]:
        """A new token; a token re-scoped from another keeps that one's expiry."""
        now = self._clock()
        key = self._keys(now).newest
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
        signed = f"{key.kid}.{_b64.encode(payload)}"
        return f"{signed}.{_sign(key, signed)}", claims

    def verify(self, token: str) -> TokenClaims:
        """Raises NotAuthenticated when the token is forged, malformed, expired or its key is gone."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._check_signature(token)
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified.clear()
            self._verified[token] = claims
        if claims.expires_at <= self._clock():
            raise NotAuthenticated(_DENIED)
        return claims

    def _check_signature(self, token: str) -> TokenClaims:
        signed, _, signature = token.rpartition(".")
        kid, _, body = signed.partition(".")
        key = self._key(int(kid)) if kid.isascii() and kid.isdigit() and len(kid) <= _MAX_KID_DIGITS else None
        # Bytes, not str: compare_digest refuses non-ASCII strings, and a token is client input.
        if key is None or not body or not hmac.compare_digest(signature.encode(), _sign(key, signed).encode()):
            raise NotAuthenticated(_DENIED)
        user_id, project_id, methods, issued, expires, audit = json.loads(_b64.decode(body))
        return TokenClaims(
            user_id, project_id, tuple(methods), datetime.fromisoformat(issued), datetime.fromisoformat(expires), audit
        )

    def _key(self, kid: int) -> TokenKey | None:
        keyset = self._keys(self._clock())
        # Newer than any this process knows: another process has just made it. (A client can make
        # every request pay this read: one small query, less than a password check costs.) An
        # older unknown kid was retired or never existed; asking the store again would not help.
        if kid > keyset.newest.kid:
            keyset = self._reread(self._clock(), keyset, always=True)
        return keyset.keys.get(kid)

    def _keys(self, now: datetime) -> _KeySet:
        keyset = self._keyset
        if keyset is None or now - keyset.read_at >= REREAD_EVERY or now - keyset.newest.created_at >= ROTATE_AFTER:
            keyset = self._reread(now, keyset)
        return keyset

    def _reread(self, now: datetime, seen: _KeySet | None, *, always: bool = False) -> _KeySet:
        with self._reading:
            # Another thread has read them while this one waited; but ``always`` (a token names a
            # key just made) must not trust a read that may have started before the key existed.
            if not always and self._keyset is not None and self._keyset is not seen:
                return self._keyset
            keys = self._store.all()
            if not keys or now - keys[-1].created_at >= ROTATE_AFTER:
                # Processes that rotate at once all try the same kid: one insert wins, all re-read it.
                self._store.add(TokenKey(keys[-1].kid + 1 if keys else 1, secrets.token_bytes(32), now))
                keys = self._store.all()
            retire_before = now - self._ttl - RETIRE_GRACE
            retired = {old.kid for old, new in pairwise(keys) if new.created_at <= retire_before}
            if retired:
                self._store.remove(retired)
                keys = [key for key in keys if key.kid not in retired]
            self._keyset = _KeySet({key.kid: key for key in keys}, keys[-1], now)
            return self._keyset


def _sign(key: TokenKey, signed: str) -> str:
    return _b64.encode(hmac.new(key.secret, signed.encode(), hashlib.sha256).digest())

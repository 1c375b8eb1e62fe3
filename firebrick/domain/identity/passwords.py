"""Password hashing with scrypt (a memory-hard KDF from the standard library)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from firebrick.domain.identity import _b64

__all__ = ["hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64.encode(salt)}${_b64.encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=_b64.decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, _b64.decode(digest))

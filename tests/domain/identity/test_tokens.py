from __future__ import annotations

from datetime import timedelta

import pytest

from firebrick.clock import utcnow
from firebrick.domain.identity import TokenSigner
from firebrick.errors import NotAuthenticated


def test_issued_token_verifies_with_its_claims() -> None:
    signer = TokenSigner(b"k" * 32, 60)
    token, claims = signer.issue("u1", "p1", ("password",))
    assert signer.verify(token) == claims
    assert timedelta(seconds=59) < claims.expires_at - claims.issued_at <= timedelta(seconds=60)


def test_tampered_token_is_refused() -> None:
    signer = TokenSigner(b"k" * 32, 60)
    token, _ = signer.issue("u1", "p1", ("password",))
    body, _, signature = token.partition(".")
    forged, _ = TokenSigner(b"x" * 32, 60).issue("admin", "p1", ("password",))
    for bad in (f"{forged.partition('.')[0]}.{signature}", f"{body}.{signature[:-2]}AA", body, ""):
        with pytest.raises(NotAuthenticated):
            signer.verify(bad)


def test_expired_token_is_refused() -> None:
    signer = TokenSigner(b"k" * 32, 60)
    token, _ = signer.issue("u1", "p1", ("password",), expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        signer.verify(token)

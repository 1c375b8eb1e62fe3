from __future__ import annotations

from firebrick.domain.identity.passwords import hash_password, verify_password


def test_hash_verifies_only_the_same_password_and_is_salted() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and first.startswith("scrypt$") and "s3cret" not in first
    assert verify_password("s3cret", first) and verify_password("s3cret", second)
    assert not verify_password("s3cret!", first)
    assert not verify_password("s3cret", "plain$text") and not verify_password("s3cret", "")

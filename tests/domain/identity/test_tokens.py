"""Tokens signed with keys kept in a real (Alembic-built) database, as every worker shares them.

Each ``TokenSigner`` here stands for one worker process: its own ``Database`` (engine, pool) over
the one database, and a clock the test moves instead of waiting a day for a rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from firebrick.clock import utcnow
from firebrick.db import Database, TokenKeyRepository, upgrade
from firebrick.domain.identity import _b64
from firebrick.domain.identity.tokens import RETIRE_GRACE, ROTATE_AFTER, TokenSigner
from firebrick.errors import NotAuthenticated
from tests.conftest import database_url

TTL = 3600


class Clock:
    """Time as one worker sees it; the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Workers:
    """Worker processes over one database: each ``signer()`` has its own engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.databases: list[Database] = []

    def store(self) -> TokenKeyRepository:
        database = Database(self.url)
        self.databases.append(database)
        return TokenKeyRepository(database)

    def signer(self, clock: Clock | None = None) -> TokenSigner:
        return TokenSigner(self.store(), TTL, clock or utcnow)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    urls = database_url(tmp_path)
    url = next(urls)
    upgrade(url)
    made = Workers(url)
    yield made
    for database in made.databases:
        database.dispose()
    next(urls, None)


def kid_of(token: str) -> int:
    return int(token.partition(".")[0])


def signed_with(token: str, secret: bytes) -> str:
    """The token's kid and claims under a signature made with ``secret``."""
    signed = token.rpartition(".")[0]
    return f"{signed}.{_b64.encode(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def test_issued_token_verifies_with_its_claims(workers: Workers) -> None:
    signer = workers.signer()
    token, claims = signer.issue("u1", "p1", ("password",))
    assert signer.verify(token) == claims
    assert timedelta(seconds=TTL - 1) < claims.expires_at - claims.issued_at <= timedelta(seconds=TTL)
    assert kid_of(token) == 1


def test_tampered_token_is_refused(workers: Workers) -> None:
    signer = workers.signer()
    token, _ = signer.issue("u1", "p1", ("password",))
    admin, _ = signer.issue("admin", "p1", ("password",))
    signed, _, signature = token.rpartition(".")
    kid, _, body = signed.partition(".")
    forgeries = (
        signed_with(admin, b"x" * 32),  # the right kid, another secret
        f"{admin.rpartition('.')[0]}.{signature}",  # other claims under this token's signature
        f"2.{body}.{signature}",  # another kid
        f"{body}.{signature}",  # no kid: a token of the old single-key format
        f"{signed}.{signature[:-2]}AA",
        f"{signed}.",
        signed,
        f"{kid}..{signature}",
        f"-1.{body}.{signature}",
        f"{'9' * 40}.{body}.{signature}",
        "",
    )
    for bad in forgeries:
        with pytest.raises(NotAuthenticated):
            workers.signer().verify(bad)
        with pytest.raises(NotAuthenticated):
            signer.verify(bad)


def test_expired_token_is_refused(workers: Workers) -> None:
    signer = workers.signer()
    token, _ = signer.issue("u1", "p1", ("password",), expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        signer.verify(token)


def test_two_workers_accept_each_others_tokens(workers: Workers) -> None:
    first, second = workers.signer(), workers.signer()

    from_first, claims_first = first.issue("u1", "p1", ("password",))
    from_second, claims_second = second.issue("u2", "p2", ("password",))

    assert second.verify(from_first) == claims_first
    assert first.verify(from_second) == claims_second
    assert kid_of(from_first) == kid_of(from_second) == 1
    assert [key.kid for key in workers.store().all()] == [1]


def test_workers_starting_at_once_agree_on_one_key(workers: Workers) -> None:
    signers = [workers.signer() for _ in range(8)]
    barrier = threading.Barrier(len(signers))
    tokens: list[str] = []
    failures: list[BaseException] = []

    def start(signer: TokenSigner) -> None:
        barrier.wait()
        try:
            tokens.append(signer.issue("u1", "p1", ("password",))[0])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(signer,)) for signer in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert [key.kid for key in workers.store().all()] == [1]
    assert {kid_of(token) for token in tokens} == {1}
    for signer in signers:
        for token in tokens:
            signer.verify(token)


def test_rotation_signs_with_a_new_key_and_retires_the_old_one_after_its_tokens_expired(workers: Workers) -> None:
    start = utcnow()
    clock = Clock(start)
    signer = workers.signer(clock)
    first, _ = signer.issue("u1", "p1", ("password",))

    # Just before the interval ends the first key still signs; the token lives past the rotation.
    clock.now = start + ROTATE_AFTER - timedelta(minutes=1)
    last_of_first, _ = signer.issue("u1", "p1", ("password",))
    # A token that would outlive its key: only a retired key can make it fail.
    long_lived, _ = signer.issue("u1", "p1", ("password",), expires_at=start + ROTATE_AFTER * 10)
    clock.now = start + ROTATE_AFTER
    second, _ = signer.issue("u1", "p1", ("password",))

    assert (kid_of(first), kid_of(last_of_first), kid_of(second)) == (1, 1, 2)
    assert [key.kid for key in workers.store().all()] == [1, 2]
    # Another worker, at the same time, accepts both keys' live tokens and signs with the new key.
    other = workers.signer(clock)
    other.verify(last_of_first)
    other.verify(second)
    assert kid_of(other.issue("u2", "p2", ("password",))[0]) == 2
    with pytest.raises(NotAuthenticated):
        other.verify(first)  # expired with its TTL, key or no key

    # Every token the first key signed has expired (plus the grace): the next read deletes it.
    clock.now = start + ROTATE_AFTER + timedelta(seconds=TTL) + RETIRE_GRACE
    later = workers.signer(clock)
    assert kid_of(later.issue("u1", "p1", ("password",))[0]) == 2
    assert [key.kid for key in workers.store().all()] == [2]
    with pytest.raises(NotAuthenticated):
        later.verify(long_lived)
    # The first worker, which last read the keys a TTL ago, reads them again and forgets key 1 too.
    with pytest.raises(NotAuthenticated):
        signer.verify(long_lived)
    assert kid_of(signer.issue("u1", "p1", ("password",))[0]) == 2


def test_a_key_made_by_another_worker_is_read_when_a_token_names_it(workers: Workers) -> None:
    start = utcnow()
    behind, ahead = Clock(start), Clock(start + ROTATE_AFTER)
    slow = workers.signer(behind)
    slow.issue("u1", "p1", ("password",))  # it has read the keys: just key 1

    token, claims = workers.signer(ahead).issue("u1", "p1", ("password",), expires_at=start + timedelta(hours=1))

    assert kid_of(token) == 2
    assert slow.verify(token) == claims
    assert kid_of(slow.issue("u1", "p1", ("password",))[0]) == 2


def test_a_token_naming_an_unknown_key_is_refused(workers: Workers) -> None:
    signer = workers.signer()
    token, _ = signer.issue("u1", "p1", ("password",))
    signed, _, signature = token.rpartition(".")
    for kid in (0, 2, 99):
        with pytest.raises(NotAuthenticated):
            signer.verify(signed_with(f"{kid}.{signed.partition('.')[2]}.{signature}", b"k" * 32))
    assert [key.kid for key in workers.store().all()] == [1]


def test_a_key_never_shows_its_secret(workers: Workers) -> None:
    workers.signer().issue("u1", "p1", ("password",))
    key = workers.store().all()[0]
    assert len(key.secret) == 32
    assert key.secret.hex() not in repr(key) and repr(key.secret) not in repr(key)

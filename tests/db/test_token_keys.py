"""The token key table: insert-if-absent by kid, ordered reads, deletes that tolerate the absent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from firebrick.clock import utcnow
from firebrick.db import Database, TokenKeyRepository, upgrade
from firebrick.domain.identity.tokens import TokenKey
from tests.conftest import database_url


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[TokenKeyRepository]:
    urls = database_url(tmp_path)
    url = next(urls)
    upgrade(url)
    database = Database(url)
    yield TokenKeyRepository(database)
    database.dispose()
    next(urls, None)


def test_a_kid_is_stored_once_and_the_first_secret_stays(keys: TokenKeyRepository) -> None:
    now = utcnow().replace(microsecond=0)
    first, rival = TokenKey(1, b"a" * 32, now), TokenKey(1, b"b" * 32, now + timedelta(seconds=1))

    assert keys.add(first) is True
    assert keys.add(rival) is False

    assert keys.all() == [first]


def test_keys_come_oldest_first_and_removing_ignores_the_absent(keys: TokenKeyRepository) -> None:
    now = utcnow().replace(microsecond=0)
    for kid in (3, 1, 2):
        keys.add(TokenKey(kid, bytes([kid]) * 32, now + timedelta(hours=kid)))

    assert [key.kid for key in keys.all()] == [1, 2, 3]
    keys.remove({1, 7})
    keys.remove(set())
    assert [(key.kid, key.secret) for key in keys.all()] == [(2, b"\x02" * 32), (3, b"\x03" * 32)]

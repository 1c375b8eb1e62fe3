"""Fixtures of the kill -9 tests: a place for a node's data, and the node processes a test starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_url
from tests.workers.test_kill_restart import Process


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A data directory and a database for the servers of one test."""
    urls = database_url(tmp_path)
    yield tmp_path / "data", next(urls)
    next(urls, None)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every server a test starts; none outlives the test, whatever fails."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()

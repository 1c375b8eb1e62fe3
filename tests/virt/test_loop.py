"""The private loop thread."""

from __future__ import annotations

import asyncio

import pytest

from firebrick.virt._loop import LoopThread


def test_runs_coroutines_and_cancels_leftovers_on_close() -> None:
    loop = LoopThread("test-loop")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    async def spawn() -> asyncio.Task[None]:
        task = asyncio.create_task(forever())
        await started.wait()
        return task

    async def answer() -> int:
        return 42

    task = loop.run(spawn())
    assert loop.run(answer()) == 42
    loop.close()
    assert task.cancelled()
    loop.close()  # twice is fine


def test_errors_reach_the_caller_and_self_calls_are_refused() -> None:
    loop = LoopThread("test-loop")

    async def fail() -> None:
        raise ValueError("boom")

    async def nested() -> None:
        loop.run(fail())

    try:
        with pytest.raises(ValueError, match="boom"):
            loop.run(fail())
        with pytest.raises(RuntimeError, match="wait for itself"):
            loop.run(nested())
    finally:
        loop.close()

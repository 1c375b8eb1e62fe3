"""A small closed-loop HTTP/1.1 load generator for the benchmarks, in Python (no ``wrk`` needed).

``connections`` keep-alive connections to one loopback address each send a ``GET``, wait for
the whole answer, and send the next, until a fixed duration is up; every answer's latency is
kept. It speaks just enough HTTP for firebrick's answers (a status line, headers, a
``Content-Length`` body) on raw asyncio streams (uvloop when installed): an ``httpx`` client
costs several times more CPU per request, and here the load generator shares the machine's
cores with the server it measures, so every cycle it spends is one the server loses. It
reports its own CPU time so the report can say how much that was.

Bounded: only 127.0.0.1, a fixed duration, a per-answer timeout, and the run stops at the first
non-2xx answer or broken connection (fast failures must not pass for throughput).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["LoadError", "LoadResult", "run_load"]

HOST = "127.0.0.1"  # the only address this ever connects to
ANSWER_TIMEOUT = 10.0


class LoadError(RuntimeError):
    """A request failed (non-2xx, a broken connection or a timeout): the run is invalid."""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float  # wall time from the first request to the last answer
    p50_ms: float
    p99_ms: float
    client_cpu_seconds: float  # this process's CPU time during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _percentile(sorted_ms: list[float], fraction: float) -> float:
    # Nearest rank, as wrk reports it.
    index = min(len(sorted_ms) - 1, max(0, round(fraction * len(sorted_ms)) - 1))
    return sorted_ms[index]


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """One whole answer; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length is None:
        raise LoadError(f"answer without Content-Length: {head[:200]!r}")
    await reader.readexactly(length)
    return status


async def _connection(port: int, requests: Iterator[bytes], deadline: float, samples: list[float]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            request = next(requests)
            started = time.perf_counter()
            writer.write(request)
            async with asyncio.timeout(ANSWER_TIMEOUT):
                status = await _read_answer(reader)
            samples.append(time.perf_counter() - started)
            if not 200 <= status < 300:
                raise LoadError(f"answered {status} to {request.split(b' ', 2)[1]!r}")
    finally:
        writer.close()


def _encode(path: str, token: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}", "Accept: application/json"]
    lines += [f"X-Auth-Token: {token}"] if token else []
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _run(port: int, paths: Sequence[str], token: str | None, connections: int, seconds: float) -> LoadResult:
    encoded = [_encode(p, token) for p in paths]
    requests = itertools.cycle(encoded)  # shared: the connections take the paths in turn
    samples: list[float] = []
    cpu_before, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    tasks = [asyncio.create_task(_connection(port, requests, deadline, samples)) for _ in range(connections)]
    try:
        async with asyncio.timeout(seconds + ANSWER_TIMEOUT + 5):
            await asyncio.gather(*tasks)
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        raise LoadError(f"a connection failed: {exc!r}") from exc
    finally:
        for task in tasks:
            task.cancel()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    if not samples:
        raise LoadError("no answer at all")
    ms = sorted(s * 1000.0 for s in samples)
    return LoadResult(len(ms), took, statistics.median(ms), _percentile(ms, 0.99), cpu)


def run_load(port: int, paths: Sequence[str], token: str | None, connections: int, seconds: float) -> LoadResult:
    """``connections`` closed-loop clients cycling over ``paths`` on 127.0.0.1:``port`` for ``seconds``."""
    try:
        import uvloop  # optional: a faster loop leaves more CPU to the server
    except ImportError:
        return asyncio.run(_run(port, paths, token, connections, seconds))
    return uvloop.run(_run(port, paths, token, connections, seconds))

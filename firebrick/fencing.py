"""The job attempt a thread is working for, and its fencing token (the claim's epoch).

The job runner sets it around each step. The database checks it at the start of every write
transaction the step makes, so a step whose claim was taken over (its lease expired, another
claimer bumped the epoch) has its late writes refused; storage puts the epoch in the names of
its temporary files, so two attempts of one job never write the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Claim", "current", "holding"]


@dataclass(slots=True)
class Claim:
    job_id: str
    epoch: int
    # Set once this attempt's own transaction let the job go (finished it, or put it to wait):
    # what the step writes after that is no longer fenced by this claim.
    ended: bool = False


_CURRENT: ContextVar[Claim | None] = ContextVar("firebrick_claim", default=None)


def current() -> Claim | None:
    return _CURRENT.get()


@contextmanager
def holding(job_id: str, epoch: int) -> Iterator[Claim]:
    claim = Claim(job_id, epoch)
    token = _CURRENT.set(claim)
    try:
        yield claim
    finally:
        _CURRENT.reset(token)

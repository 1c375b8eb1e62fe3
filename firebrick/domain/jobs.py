"""Job kinds: the forward step of an asynchronous action and what undoes it.

A job row is written in the same transaction as the status change that starts
the action. The worker runs ``run`` (which must be safe to repeat: after a
crash it runs again from the persisted state) and, when ``run`` keeps failing
with an unexpected error, ``give_up`` leaves the resource in a terminal status
with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from firebrick.domain import messages
from firebrick.domain.model import Job
from firebrick.domain.ports import Ports

if TYPE_CHECKING:
    from firebrick.db import SnapshotRepository, VolumeRepository

__all__ = ["BoundKind", "JobKind", "deadline", "fail", "new_job", "seconds_left"]

_P = TypeVar("_P")


class _OnNode(Protocol):
    @property
    def node(self) -> str: ...


@dataclass(frozen=True, slots=True)
class BoundKind:
    """A kind with its ports: what the job runner calls."""

    run: Callable[[Job], None]
    give_up: Callable[[Job, str], None]


@dataclass(frozen=True, slots=True)
class JobKind(Generic[_P]):
    """A job kind of one side (``_P``: the ports its steps are given, the block-storage or compute side's)."""

    name: str
    run: Callable[[_P, Job], None]
    give_up: Callable[[_P, Job, str], None]

    def bind(self, ports: Callable[[], _P]) -> BoundKind:
        """The runner's view of this kind: the same steps, given the ports (read when a step starts)."""
        return BoundKind(lambda job: self.run(ports(), job), lambda job, reason: self.give_up(ports(), job, reason))


def new_job(ports: _OnNode, kind: JobKind[Any], resource_id: str, **payload: Any) -> Job:
    """A job of ``kind`` on ``resource_id``, for the node of ``ports`` to run."""
    return Job(id=str(uuid.uuid4()), kind=kind.name, resource_id=resource_id, owner=ports.node, payload=payload)


def deadline(seconds: float) -> str:
    """A wait's deadline, as a job's payload keeps it: aware UTC, so no host's time zone shifts it."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def seconds_left(until: str) -> float:
    """How long until a ``deadline`` (negative once it has passed)."""
    return (datetime.fromisoformat(until) - datetime.now(UTC)).total_seconds()


def fail(
    ports: Ports,
    store: VolumeRepository | SnapshotRepository,
    resource_id: str,
    expected: Iterable[str],
    error_status: str,
    event: messages.Event,
    reason: str,
    job: Job | None = None,
    **fields: Any,
) -> bool:
    """The common end of every compensation: the resource goes to ``error_status``
    with the reason (and ``fields``), its project is told why in the same
    transaction, and the job (if any) is finished.

    Returns whether the resource was still in an ``expected`` status (and so moved).
    """
    resource = store.get(resource_id)
    if resource is None:
        moved = False
    else:
        message = messages.new_message(resource.project_id, event, resource_id, reason)
        done = job.id if job else None
        moved = store.transition(
            resource_id, expected, error_status, done_job=done, message=message, error_reason=reason, **fields
        )
    if job is not None:
        ports.jobs.finish(job.id)
    return moved

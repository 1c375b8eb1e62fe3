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
from typing import TYPE_CHECKING, Any

from firebrick.domain import messages
from firebrick.domain.model import Job
from firebrick.domain.ports import Ports

if TYPE_CHECKING:
    from firebrick.db import SnapshotRepository, VolumeRepository

__all__ = ["JobKind", "fail", "new_job"]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    run: Callable[[Ports, Job], None]
    give_up: Callable[[Ports, Job, str], None]


def new_job(ports: Ports, kind: JobKind, resource_id: str, **payload: Any) -> Job:
    return Job(id=str(uuid.uuid4()), kind=kind.name, resource_id=resource_id, owner=ports.node, payload=payload)


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

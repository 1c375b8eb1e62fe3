"""Compute job kinds: the worker steps of server and attachment operations.

They run on the same durable job table and runner as the block-storage side's
(jobs of one server run one at a time: Nova's per-instance lock), bound to the
compute ports by ``bind``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.jobs import JobKind
from firebrick.domain.model import Job

__all__ = ["ComputeJobKind", "bind", "queue", "server_job"]


@dataclass(frozen=True, slots=True)
class ComputeJobKind:
    name: str
    run: Callable[[ComputePorts, Job], None]
    give_up: Callable[[ComputePorts, Job, str], None]


def server_job(ports: ComputePorts, kind: ComputeJobKind, server_id: str, **payload: Any) -> Job:
    return Job(id=str(uuid.uuid4()), kind=kind.name, resource_id=server_id, owner=ports.node, payload=payload)


def queue(ports: ComputePorts, kind: ComputeJobKind, server_id: str, **payload: Any) -> Job:
    """Queue a job of its own (not tied to a state change) and wake the worker."""
    job = server_job(ports, kind, server_id, **payload)
    ports.jobs.add(job)
    ports.wake_worker()
    return job


def bind(kind: ComputeJobKind, ports: Callable[[], ComputePorts]) -> JobKind:
    """The runner's view of a compute job kind: the same steps, given the compute ports."""
    return JobKind(kind.name, lambda _volume_side, job: kind.run(ports(), job),
                   lambda _volume_side, job, reason: kind.give_up(ports(), job, reason))  # fmt: skip

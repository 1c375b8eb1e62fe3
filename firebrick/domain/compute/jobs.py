"""Queueing a compute job of its own: one not tied to a server's state change.

Compute job kinds are ``firebrick.domain.jobs.JobKind[ComputePorts]``: they run on the same
durable job table and runner as the block-storage side's (jobs of one server run one at a
time: Nova's per-instance lock).
"""

from __future__ import annotations

from typing import Any

from firebrick.domain.compute.ports import ComputePorts
from firebrick.domain.jobs import JobKind, new_job
from firebrick.domain.model import Job

__all__ = ["queue"]


def queue(ports: ComputePorts, kind: JobKind[ComputePorts], server_id: str, **payload: Any) -> Job:
    """Queue a job of its own (not tied to a state change) and wake the worker."""
    job = new_job(ports, kind, server_id, **payload)
    ports.jobs.add(job)
    ports.wake_worker()
    return job

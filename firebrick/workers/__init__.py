"""Background work of a node: the durable job runner and the heartbeat."""

from __future__ import annotations

from firebrick.workers.heartbeat import Heartbeat
from firebrick.workers.runner import JobRunner

__all__ = ["Heartbeat", "JobRunner"]

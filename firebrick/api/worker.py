"""The application as uvicorn's worker processes build it (``serve --workers N``)."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette

from firebrick.api.app import build_app
from firebrick.config import Settings, from_parent, hand_to_workers

__all__ = ["api_worker", "config"]


def config(settings: Settings, access_log: bool) -> uvicorn.Config:
    """uvicorn's configuration for ``settings.workers`` API workers of this node."""
    hand_to_workers(settings)
    return uvicorn.Config(
        f"{__name__}:api_worker", factory=True, host=settings.host, port=settings.port, workers=settings.workers,
        access_log=access_log, log_level="info", lifespan="on",
        # uvicorn kills a worker that does not answer its health check in time, and on a busy
        # machine importing firebrick alone can take longer than its default 5 s.
        timeout_worker_healthcheck=30,
    )  # fmt: skip


def api_worker() -> Starlette:
    """One API worker: requests only; the node's agent (the serving process) runs the jobs."""
    from firebrick.node import Node, Role

    return build_app(Node(from_parent(), Role.API))

"""Runs durable jobs on a small thread pool.

The database is the queue: ``wake()`` makes the dispatcher read this node's job
rows and start each one not already running. Jobs of the same resource run one
at a time. A step that raises something unexpected is retried on a later pass;
after ``max_attempts`` its kind's ``give_up`` compensation runs (a compensation
that itself fails parks the job until the next start). Because every
step is idempotent, a node killed with ``kill -9`` simply runs its leftover
rows again when it starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from firebrick.domain.jobs import JobKind
from firebrick.domain.model import Job
from firebrick.domain.ports import Ports

__all__ = ["JobRunner"]

log = logging.getLogger(__name__)

# A pass also runs this often without a wake, so jobs written by another
# process on the same node (``firebrick`` CLI, a second server) are not missed.
_IDLE_RESCAN_SECONDS = 5.0


class JobRunner:
    def __init__(self, ports: Ports, kinds: Mapping[str, JobKind], threads: int = 4, max_attempts: int = 3) -> None:
        self._ports = ports
        self._kinds = kinds
        self._max_attempts = max_attempts
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="firebrick-job")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._busy_resources: set[str] = set()
        self._parked: set[str] = set()
        self._lock = threading.Lock()
        self._dispatcher = threading.Thread(target=self._dispatch_forever, name="firebrick-dispatch", daemon=True)

    def start(self) -> None:
        self._dispatcher.start()
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._dispatcher.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return not self._running

    def _dispatch_forever(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_IDLE_RESCAN_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._dispatch_pending()
            except Exception:  # noqa: BLE001 - the dispatcher must outlive a failed pass (e.g. the DB restarting)
                log.exception("job dispatch pass failed; retrying on the next pass")

    def _dispatch_pending(self) -> None:
        for job in self._ports.jobs.pending(self._ports.node):
            with self._lock:
                if job.id in self._running or job.id in self._parked or job.resource_id in self._busy_resources:
                    continue
                self._running.add(job.id)
                self._busy_resources.add(job.resource_id)
            self._pool.submit(self._execute, job)

    def _execute(self, job: Job) -> None:
        try:
            self._run_once(job)
        finally:
            with self._lock:
                self._running.discard(job.id)
                self._busy_resources.discard(job.resource_id)
            self._wake.set()

    def _run_once(self, job: Job) -> None:
        kind = self._kinds.get(job.kind)
        if kind is None:
            log.error("job %s has unknown kind %s; dropping it", job.id, job.kind)
            self._ports.jobs.finish(job.id)
            return
        try:
            kind.run(self._ports, job)
        except Exception as error:  # noqa: BLE001 - an unexpected failure is retried, then compensated
            log.exception("job %s (%s of %s) failed", job.id, job.kind, job.resource_id)
            self._ports.jobs.record_attempt(job.id)
            if job.attempt + 1 >= self._max_attempts:
                self._give_up(kind, job, f"internal error: {error}")

    def _give_up(self, kind: JobKind, job: Job, reason: str) -> None:
        try:
            kind.give_up(self._ports, job, reason)
        except Exception:  # noqa: BLE001 - a failing compensation must not spin; the next start retries it
            log.critical("compensation of job %s (%s) failed; parked until the next start", job.id, job.kind)
            with self._lock:
                self._parked.add(job.id)

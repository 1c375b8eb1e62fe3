"""Runs durable jobs claimed in the database, on a small thread pool.

The database is the queue and the lock: the dispatcher claims due jobs of this node's
owners (a lease and an epoch, see ``firebrick.db.jobs``), as many as it has free threads,
and runs each step under its claim, so every write the step makes checks the epoch. A
renewer keeps the leases of running steps alive; a claimer that dies stops renewing, and
its jobs are claimed again once their leases expire. A step that waits for a callback puts
its job to wait (``jobs.wait``) and returns its thread; the job is due again when the
callback ends the wait or its deadline passes. A step that raises something unexpected is
released and retried; after ``max_attempts`` its kind's ``give_up`` compensation runs (a
compensation that itself fails is retried after ``PARK_SECONDS``). Every step is
idempotent, so a step run again after a crash just repeats.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from firebrick.domain.jobs import BoundKind
from firebrick.domain.model import Job
from firebrick.errors import StaleClaim

if TYPE_CHECKING:
    from firebrick.db import JobRepository

__all__ = ["PARK_SECONDS", "JobRunner"]

log = logging.getLogger(__name__)

# Without a wake, the dispatcher still looks this often: a job announced while the database
# was unreachable, or by a process that cannot wake this one, is not missed for long.
_IDLE_RESCAN_SECONDS = 2.0
# How long a failed compensation waits before it is tried again.
PARK_SECONDS = 60.0


class JobRunner:
    def __init__(
        self,
        jobs: JobRepository,
        node: str,
        kinds: Mapping[str, BoundKind],
        threads: int = 4,
        max_attempts: int = 3,
        lease: float = 30.0,
    ) -> None:
        """Run ``node``'s jobs of ``kinds`` on ``threads`` threads, each claim held ``lease`` seconds."""
        self._jobs = jobs
        self._kinds = kinds
        self._threads = threads
        self._max_attempts = max_attempts
        self._lease = lease
        self._owners = (node,)
        self.claimer = f"{node}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="firebrick-job")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._held: dict[str, int] = {}  # job id -> epoch of the claims being run
        self._lock = threading.Lock()
        self._dispatcher = threading.Thread(target=self._dispatch_forever, name="firebrick-dispatch", daemon=True)
        self._renewer = threading.Thread(target=self._renew_forever, name="firebrick-lease", daemon=True)

    def start(self) -> None:
        self._dispatcher.start()
        self._renewer.start()
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._dispatcher.join(timeout=5)
        self._renewer.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return not self._held

    def _dispatch_forever(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self._dispatch_due()
            except Exception:  # noqa: BLE001 - the dispatcher must outlive a failed pass (e.g. the DB restarting)
                log.exception("job dispatch pass failed; retrying on the next pass")
                pause = _IDLE_RESCAN_SECONDS
            self._wake.wait(pause)
            self._wake.clear()

    def _dispatch_due(self) -> float:
        """Claim and start what is due; returns how long the dispatcher may sleep unless woken."""
        with self._lock:
            free = self._threads - len(self._held)
        if free <= 0:
            return _IDLE_RESCAN_SECONDS  # a finishing step wakes the dispatcher
        jobs = self._jobs.claim(self.claimer, self._owners, free, self._lease)
        for job in jobs:
            log.info("claimed job %s (%s of %s) at epoch %d", job.id, job.kind, job.resource_id, job.epoch)
            with self._lock:
                self._held[job.id] = job.epoch
            self._pool.submit(self._execute, job)
        if jobs:
            return 0.0  # there may be more
        due = self._jobs.seconds_to_next_due(self._owners)
        return _IDLE_RESCAN_SECONDS if due is None else min(max(due, 0.0), _IDLE_RESCAN_SECONDS)

    def _renew_forever(self) -> None:
        while not self._stop.wait(self._lease / 3):
            with self._lock:
                held = dict(self._held)
            try:
                kept = self._jobs.renew(self.claimer, held, self._lease)
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease has slack for two
                log.exception("renewing job leases failed")
                continue
            with self._lock:  # a step that ended meanwhile let its job go: that is no loss
                lost = [job_id for job_id in held.keys() - kept if self._held.get(job_id) == held[job_id]]
            for job_id in lost:
                log.warning("job %s is no longer held by %s; its step's writes will be refused", job_id, self.claimer)

    def _execute(self, job: Job) -> None:
        try:
            with self._jobs.holding(job) as claim:
                self._run_once(job)
                if not claim.ended:  # the step returned with work left: claim it again
                    self._jobs.release(job)
        except StaleClaim:
            log.info("job %s (%s) was taken over or ended elsewhere; this attempt stops", job.id, job.kind)
        except Exception:  # noqa: BLE001 - the thread must survive; the lease expires and the job runs again
            log.exception("job %s (%s): releasing it failed", job.id, job.kind)
        finally:
            with self._lock:
                if self._held.get(job.id) == job.epoch:  # not a later claim of the same job, still running
                    del self._held[job.id]
            self._wake.set()

    def _run_once(self, job: Job) -> None:
        kind = self._kinds.get(job.kind)
        if kind is None:
            log.error("job %s has unknown kind %s; dropping it", job.id, job.kind)
            self._jobs.finish(job.id)
            return
        if job.attempt >= self._max_attempts:  # its compensation failed before: try that again
            self._give_up(kind, job, "internal error: the operation failed repeatedly")
            return
        try:
            kind.run(job)
        except StaleClaim:
            raise
        except Exception as error:  # noqa: BLE001 - an unexpected failure is retried, then compensated
            log.exception("job %s (%s of %s) failed", job.id, job.kind, job.resource_id)
            if job.attempt + 1 >= self._max_attempts:
                self._give_up(kind, job, f"internal error: {error}")
            else:
                self._jobs.release(job, failed=True)

    def _give_up(self, kind: BoundKind, job: Job, reason: str) -> None:
        try:
            kind.give_up(job, reason)
        except StaleClaim:
            raise
        except Exception:  # noqa: BLE001 - a failing compensation must not spin; it is tried again later
            log.critical("compensation of job %s (%s) failed; retried in %g s", job.id, job.kind, PARK_SECONDS)
            self._jobs.release(job, retry_in=PARK_SECONDS, failed=True)

"""Run ``firebrick`` under a sampling profiler (py-spy is not installed here): a thread reads every
thread's stack (``sys._current_frames``) every few milliseconds, and at exit the report says which
functions were on the stacks most often, per thread kind (event loop, job threads, others).

    python bench/sampler.py REPORT.txt serve --data-dir … --port …

It samples only between a SIGUSR1 and the next SIGUSR2 (the benchmark sends them around the part
it measures), and only its own process: with ``serve --workers 1`` that is the whole service (API, jobs,
fake hypervisor). Stacks that are waiting (a lock, a socket, a sleep) count too: the report is of
wall time per thread, so the job threads' rows say where a job step spends its time.
"""

from __future__ import annotations

import atexit
import collections
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

INTERVAL = 0.002
TOP = 40


class Sampler:
    def __init__(self) -> None:
        self.samples: collections.Counter[str] = collections.Counter()  # thread kind
        self.inclusive: collections.Counter[tuple[str, str]] = collections.Counter()  # (kind, function)
        self.leaf: collections.Counter[tuple[str, str]] = collections.Counter()
        self.active = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(INTERVAL):
            if not self.active.is_set():
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    self._record(_kind(names.get(ident, "?")), frame)

    def _record(self, kind: str, frame: FrameType | None) -> None:
        self.samples[kind] += 1
        seen: set[str] = set()
        first = True
        while frame is not None:
            code = frame.f_code
            name = f"{code.co_name} ({_short(code.co_filename)}:{code.co_firstlineno})"
            if first:
                self.leaf[(kind, name)] += 1
                first = False
            if name not in seen:
                seen.add(name)
                self.inclusive[(kind, name)] += 1
            frame = frame.f_back

    def report(self) -> str:
        self._stop.set()
        lines = [f"samples every {INTERVAL * 1000:.0f} ms, per thread kind: {dict(self.samples)}"]
        for kind, total in self.samples.most_common():
            for title, counter in (("on the stack (inclusive)", self.inclusive), ("innermost (self)", self.leaf)):
                lines.append(f"\n== {kind}: {title}, share of that kind's samples")
                rows = sorted(((n, f) for (k, f), n in counter.items() if k == kind), reverse=True)[:TOP]
                lines += [f"{n / total:6.1%}  {f}" for n, f in rows]
        return "\n".join(lines) + "\n"


def _kind(thread_name: str) -> str:
    if thread_name == "MainThread":
        return "MainThread (event loop)"
    for prefix in ("firebrick-job", "firebrick-dispatch", "firebrick-lease", "asyncio", "ThreadPoolExecutor", "AnyIO"):
        if thread_name.startswith(prefix):
            return prefix
    return "other"


def _short(path: str) -> str:
    for marker in ("/firebrick/", "/site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main() -> None:
    report_path, argv = Path(sys.argv[1]), sys.argv[2:]
    sampler = Sampler()
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: sampler.active.set())
    signal.signal(signal.SIGUSR2, lambda _signum, _frame: sampler.active.clear())
    atexit.register(lambda: report_path.write_text(sampler.report()))
    sampler.start()
    from firebrick.cli import main as firebrick_main

    sys.exit(firebrick_main(argv))


if __name__ == "__main__":
    main()

"""Run independent jobs in parallel, bounded by a deadline.

The plugin must answer within ``-t`` even if a job hangs in a system call, so jobs run
in daemon threads that are abandoned (not joined) when the deadline passes: the
process can exit while they are still blocked.
"""

from __future__ import annotations

import queue
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from typing import TypeVar

    T = TypeVar("T")
    K = TypeVar("K", bound=Hashable)


class Unfinished(Exception):
    """A job that had not finished when the deadline passed."""


def run_parallel(
    jobs: dict[K, Callable[[], T]], deadline: float, workers: int = 16
) -> dict[K, T | BaseException]:
    """Run every job; return its result, its exception, or :class:`Unfinished`."""
    results: dict[K, T | BaseException] = {}
    if not jobs:
        return results
    todo: queue.SimpleQueue[tuple[K, Callable[[], T]]] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[K, T | BaseException]] = queue.SimpleQueue()
    for item in jobs.items():
        todo.put(item)

    def worker() -> None:
        while True:
            try:
                key, job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((key, job()))
            except BaseException as exc:  # reported to the caller, never lost
                done.put((key, exc))

    for _ in range(max(1, min(workers, len(jobs)))):
        threading.Thread(target=worker, daemon=True, name="probe").start()
    while len(results) < len(jobs):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            key, value = done.get(timeout=left)
        except queue.Empty:
            break
        results[key] = value
    for key in jobs:
        results.setdefault(key, Unfinished("no answer before the check's time ran out"))
    return results


def call_within(job: Callable[[], T], seconds: float, default: T) -> T:
    """``job()``'s result, or ``default`` when it fails or takes longer than ``seconds``
    (a blocking system call, such as the resolver's, is left behind in a daemon thread)."""
    result = run_parallel({0: job}, time.monotonic() + max(0.0, seconds), workers=1)[0]
    return default if isinstance(result, BaseException) else result  # type: ignore[return-value]

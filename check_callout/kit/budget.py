"""The run's time budget, derived once from ``-t``.

Every socket operation, lookup and command waits at most ``min(step, time left)``; the
plugin keeps a little time back to print its result before ``-t`` runs out, and
nagiosplugin's SIGALRM one second after ``-t`` is only a backstop.
"""

from __future__ import annotations

OUTPUT_RESERVE = 0.3  # seconds kept back from -t to print the result
MIN_RUN = 0.2  # the shortest run the budget allows
MAX_STEP = 30.0  # the longest wait for one SMTP response (Exim's callout default)


class Budget:
    """``start`` and ``timeout`` (-t) in, the deadline and step bound out."""

    __slots__ = ("start", "timeout", "deadline", "step")

    def __init__(self, start: float, timeout: float) -> None:
        self.start = start
        self.timeout = timeout
        self.deadline = start + max(MIN_RUN, timeout - OUTPUT_RESERVE)
        self.step = min(MAX_STEP, timeout)

    def __repr__(self) -> str:
        return f"Budget(timeout={self.timeout}, deadline={self.deadline:.3f})"

"""Bounded waits and stopping what a test started, by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any, Callable


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(step)
    return None


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process, then SIGKILL its own process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        # start_new_session=True made the PID the group id; helpers it forked
        # (Icinga's worker and process spawner) stay in that group.
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass

"""The Postfix queue: ``postqueue -j`` (one JSON object a message), counted and classified
as the lines arrive: a queue of a million messages is never held in memory, and reading
stops at ``MAX_MESSAGES`` (the counts are then lower bounds: "at least N")."""

from __future__ import annotations

import json
import subprocess
import time

from check_callout.kit.text import sanitize
from check_nullmailer.host import find_tool, stream_lines
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnavailable, Tally


def parse_line(line: str, now: float) -> QueuedMessage:
    """One message of ``postqueue -j``; raises ValueError for a line that is not one."""
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("not an object")
    recipients = item.get("recipients") or []
    reasons = [
        str(r.get("delay_reason", "")) for r in recipients if isinstance(r, dict) and r.get("delay_reason")
    ]
    arrival = item.get("arrival_time")
    age = max(0.0, now - float(arrival)) if isinstance(arrival, (int, float)) else None
    return QueuedMessage(
        queue_id=str(item.get("queue_id", "?")),
        queue=str(item.get("queue_name", "?")),
        sender=str(item.get("sender", "")),
        age=age,
        reasons=reasons,
    )


def parse_postqueue_json(text: str, now: float | None = None) -> tuple[list[QueuedMessage], int]:
    """Messages of ``postqueue -j`` output, and the number of lines that were not JSON."""
    now = time.time() if now is None else now
    messages: list[QueuedMessage] = []
    bad = 0
    for number, line in enumerate(text.splitlines()):
        if number >= MAX_MESSAGES:
            break
        if not line.strip():
            continue
        try:
            messages.append(parse_line(line, now))
        except (ValueError, TypeError):
            bad += 1
    return messages, bad


def read_queue(confdir: str | None, deadline: float | None) -> QueueReport:
    tool = find_tool(("postqueue",))
    if not tool:
        raise QueueUnavailable("postqueue not found")
    argv = [tool] + (["-c", confdir] if confdir else []) + ["-j"]
    tally = Tally("postqueue -j")
    now = time.time()
    bad = 0

    def on_line(line: str) -> None:
        nonlocal bad
        if not line.strip():
            return
        try:
            tally.add(parse_line(line, now))
        except (ValueError, TypeError):
            bad += 1

    try:
        done = stream_lines(argv, deadline, on_line, MAX_MESSAGES)
    except subprocess.TimeoutExpired:
        raise QueueUnavailable("postqueue -j did not answer in time") from None
    except OSError as exc:
        raise QueueUnavailable(f"postqueue: {exc.strerror or exc}") from None
    if done.returncode not in (0, None):
        last = (
            done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        )
        raise QueueUnavailable(f"postqueue -j: {sanitize(last, 160)}")
    report = tally.report
    if done.capped:
        report.capped = True
        report.notes.append(
            f"postqueue -j: reading stopped after {MAX_MESSAGES} messages (at least that many)"
        )
    if bad:
        report.notes.append(f"{bad} lines of postqueue -j were not JSON")
    return report

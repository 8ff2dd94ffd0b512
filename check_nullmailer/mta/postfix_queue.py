"""The Postfix queue: ``postqueue -j`` (one JSON object a message), counted and classified."""

from __future__ import annotations

import json
import subprocess
import time

from check_callout.kit.text import sanitize
from check_nullmailer.host import find_tool, run_command
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnavailable, summarize


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
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
            recipients = item.get("recipients") or []
            reasons = [
                str(r.get("delay_reason", ""))
                for r in recipients
                if isinstance(r, dict) and r.get("delay_reason")
            ]
            arrival = item.get("arrival_time")
            age = max(0.0, now - float(arrival)) if isinstance(arrival, (int, float)) else None
            messages.append(
                QueuedMessage(
                    queue_id=str(item.get("queue_id", "?")),
                    queue=str(item.get("queue_name", "?")),
                    sender=str(item.get("sender", "")),
                    age=age,
                    reasons=reasons,
                )
            )
        except (ValueError, TypeError):
            bad += 1
    return messages, bad


def read_queue(confdir: str | None, deadline: float | None) -> QueueReport:
    tool = find_tool(("postqueue",))
    if not tool:
        raise QueueUnavailable("postqueue not found")
    argv = [tool] + (["-c", confdir] if confdir else []) + ["-j"]
    try:
        rc, out, err = run_command(argv, deadline)
    except subprocess.TimeoutExpired:
        raise QueueUnavailable("postqueue -j did not answer in time") from None
    except OSError as exc:
        raise QueueUnavailable(f"postqueue: {exc.strerror or exc}") from None
    if rc != 0:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {rc}"
        raise QueueUnavailable(f"postqueue -j: {sanitize(last, 160)}")
    messages, bad = parse_postqueue_json(out)
    report = summarize(messages, "postqueue -j")
    if bad:
        report.notes.append(f"{bad} lines of postqueue -j were not JSON")
    return report

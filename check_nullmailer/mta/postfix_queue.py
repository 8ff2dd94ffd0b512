"""The Postfix queue: ``postqueue -j`` (one JSON object a message), counted and classified
as the lines arrive: a queue of a million messages is never held in memory, and reading
stops at ``MAX_MESSAGES`` (the counts are then lower bounds: "at least N")."""

from __future__ import annotations

import json
import re
import time

from check_callout.kit.text import sanitize
from check_nullmailer.host import MAX_LINE, find_tool
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnreadable, Tally
from check_nullmailer.mta.queue_listing import note_capped, stream_listing


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


# Fields of a message whose line was cut (postqueue -j writes queue_name, queue_id,
# arrival_time, message_size, forced_expire and sender before the recipients).
_FIELD = r'"{}"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)'
_CUT_FIELDS = {
    name: re.compile(_FIELD.format(name)) for name in ("queue_name", "queue_id", "arrival_time", "sender")
}
_CUT_REASON = re.compile(_FIELD.format("delay_reason"))


def parse_cut_line(head: str, now: float) -> QueuedMessage | None:
    """A message whose line was longer than the reader's limit (thousands of recipients),
    from the part kept: its queue, id, age and sender, and the deferral reasons of the
    recipients in that part; None when even the queue name is not there."""
    found: dict[str, object] = {}
    for name, pattern in _CUT_FIELDS.items():
        m = pattern.search(head)
        if m:
            found[name] = json.loads(m.group(1))
    if not isinstance(found.get("queue_name"), str):
        return None
    reasons = []
    for m in _CUT_REASON.finditer(head):
        value = json.loads(m.group(1))
        if isinstance(value, str) and value:
            reasons.append(value)
    arrival = found.get("arrival_time")
    return QueuedMessage(
        queue_id=str(found.get("queue_id", "?")),
        queue=str(found["queue_name"]),
        sender=str(found.get("sender", "")),
        age=max(0.0, now - float(arrival)) if isinstance(arrival, (int, float)) else None,
        reasons=reasons,
    )


def read_queue(confdir: str | None, deadline: float | None) -> QueueReport:
    """``postqueue -j`` read as it arrives.  A line that is not a message of the listing
    makes the whole listing "could not read" (QueueUnreadable): a queue the reader does
    not understand is never counted as empty.  A message longer than the line limit is
    counted from the part kept."""
    tool = find_tool(("postqueue",))
    if not tool:
        raise QueueUnreadable("postqueue not found")
    argv = [tool] + (["-c", confdir] if confdir else []) + ["-j"]
    tally = Tally("postqueue -j")
    now = time.time()
    bad: list[str] = []
    cut = 0

    def on_line(line: str, whole: bool) -> bool:
        nonlocal cut
        if not line.strip():
            return False
        try:
            tally.add(parse_line(line, now))
            return False
        except (ValueError, TypeError):
            pass
        msg = None if whole else parse_cut_line(line, now)
        if msg is None:
            bad.append(line)
            return True  # the listing is not understood: stop reading it
        cut += 1
        tally.add(msg)
        return False

    done = stream_listing(argv, "postqueue -j", on_line, MAX_MESSAGES, deadline)
    if bad:
        raise QueueUnreadable(
            f"postqueue -j printed a line that is not a message in JSON: {sanitize(bad[0], 80)!r}"
        )
    if done.returncode not in (0, None):
        last = (
            done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        )
        raise QueueUnreadable(f"postqueue -j: {sanitize(last, 160)}")
    report = tally.report
    if done.capped:
        note_capped(report, "postqueue -j", MAX_MESSAGES)
    if cut:
        report.notes.append(
            f"{cut} messages of postqueue -j longer than {MAX_LINE // 1024} KiB: counted, "
            f"their reasons read from the first {MAX_LINE // 1024} KiB"
        )
    return report

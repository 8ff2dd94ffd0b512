"""The Exim queue: ``exim -bp`` and each message's log (``exim -Mvl``) for deferral reasons."""

from __future__ import annotations

import re
import subprocess
import time

from check_callout.kit.text import sanitize
from check_nullmailer.access import needs_sudo, sudo_refusal, user_name
from check_nullmailer.host import find_tool, run_command
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnavailable, summarize

MAX_DETAIL = 200  # messages whose log is read for reasons


_BP_HEAD = re.compile(
    r"^\s*(?P<age>\d+)(?P<unit>[smhd])\s+(?P<size>\S+)\s+(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})"
    r"\s+<(?P<sender>[^>]*)>(?P<frozen>\s+\*\*\* frozen \*\*\*)?"
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_exim_age(text: str) -> float | None:
    """``25m``, ``3h``, ``2d`` as seconds (Exim's queue listing is this coarse)."""
    m = re.fullmatch(r"(\d+)([smhd])", text.strip())
    return float(int(m.group(1)) * _UNITS[m.group(2)]) if m else None


def parse_exim_bp(text: str) -> list[QueuedMessage]:
    """Messages of ``exim -bp``; the recipients still to deliver are not needed here."""
    messages: list[QueuedMessage] = []
    for line in text.splitlines()[: MAX_MESSAGES * 4]:
        m = _BP_HEAD.match(line)
        if not m:
            continue
        messages.append(
            QueuedMessage(
                queue_id=m.group("id"),
                queue="queued",
                sender=m.group("sender"),
                age=float(int(m.group("age")) * _UNITS[m.group("unit")]),
                frozen=bool(m.group("frozen")),
            )
        )
    return messages


_MSGLOG_DEFER = re.compile(r"^\S+ \S+ (?P<rcpt>\S+) .*?\bdefer \([-0-9]+\)(?P<rest>.*)$")


def parse_exim_msglog(text: str) -> dict[str, str]:
    """The latest deferral reason per recipient in a message log (``exim -Mvl``)."""
    reasons: dict[str, str] = {}
    for line in text.splitlines()[:10_000]:
        m = _MSGLOG_DEFER.match(line)
        if m:
            rest = m.group("rest").lstrip(": ")
            reasons[m.group("rcpt")] = rest
    return reasons


# Exim lists its queue (-bp) and message logs (-Mvl) for admin users only: root, the
# Exim user and group (Debian-exim); others get "exim: permission denied".
_NOT_ADMIN = re.compile(r"permission denied|not an admin", re.IGNORECASE)


def read_queue(config: str | None, deadline: float | None, sudo: bool = False) -> QueueReport:
    tool = find_tool(("exim4", "exim"))
    if not tool:
        raise QueueUnavailable("exim not found")
    base = [tool] + (["-C", config] if config else [])
    try:
        rc, out, err = run_command(base + ["-bp"], deadline, sudo)
    except subprocess.TimeoutExpired:
        raise QueueUnavailable("exim -bp did not answer in time") from None
    except OSError as exc:
        raise QueueUnavailable(f"exim: {exc.strerror or exc}") from None
    if rc != 0 and not out.strip():
        if sudo_refusal(err) or _NOT_ADMIN.search(err):
            hint = needs_sudo(f"{tool} -bp", err, sudo)
            if not sudo:
                hint += f", or add {user_name()} to group Debian-exim (Exim's admin group)"
            raise QueueUnavailable(sanitize(hint, 300))
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {rc}"
        raise QueueUnavailable(f"exim -bp: {sanitize(last, 160)}")
    messages = parse_exim_bp(out)
    examined = 0
    complete = True
    for msg in sorted(messages, key=lambda item: -(item.age or 0)):
        if examined >= MAX_DETAIL or (deadline is not None and deadline - time.monotonic() < 1.0):
            complete = False
            msg.queue = "deferred"  # counted, reasons not read
            continue
        examined += 1
        try:
            rc, log, _ = run_command(base + ["-Mvl", msg.queue_id], deadline, sudo)
        except (OSError, subprocess.SubprocessError):
            rc, log = 1, ""
        reasons = parse_exim_msglog(log) if rc == 0 else {}
        msg.reasons = list(reasons.values())
        if reasons or msg.frozen or rc != 0:
            msg.queue = "deferred"
    report = summarize(messages, "exim -bp")
    if not complete:
        report.notes.append(f"reasons read for the {examined} oldest of {len(messages)} messages only")
    return report

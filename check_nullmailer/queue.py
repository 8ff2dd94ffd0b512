"""The local mail queue: how many messages are deferred, and how many because a
receiver could not verify the sender (a callout that failed or deferred).

Parsers take the text the MTA's own tools print (``postqueue -j``, ``exim -bp``,
``exim -Mvl``) so they can be tested with captured output; the ``read_*`` functions run
the tools, bounded in time and in the number of messages examined.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

from check_callout.text import sanitize
from check_nullmailer.origin import find_tool, run_command, under

# what receivers say when sender verification did not succeed
CALLOUT_RE = re.compile(
    r"sender verif|callout|unverified (?:sender )?address|sender address verification|verification failed",
    re.IGNORECASE,
)
MAX_MESSAGES = 100_000  # queue entries parsed
MAX_DETAIL = 200  # Exim messages whose log is read for reasons
STUCK_AFTER = 60.0  # a nullmailer/dma queue file older than this has been deferred


@dataclass
class QueuedMessage:
    """One queued message; ``reasons`` are the deferral texts (may be empty)."""

    queue_id: str
    queue: str
    sender: str
    age: float | None = None  # seconds since arrival
    reasons: list[str] = field(default_factory=list)
    frozen: bool = False

    @property
    def deferred(self) -> bool:
        return self.queue == "deferred"

    @property
    def callout(self) -> bool:
        return any(CALLOUT_RE.search(reason) for reason in self.reasons)


@dataclass
class QueueReport:
    """Counts for the plugin; ``callout_deferred`` is None when reasons are not kept."""

    source: str
    messages: int = 0
    deferred: int = 0
    callout_deferred: int | None = 0
    oldest_deferred: float = 0.0  # age in seconds of the oldest deferred message
    oldest_callout: float = 0.0
    examples: list[str] = field(default_factory=list)  # a few callout deferral texts
    notes: list[str] = field(default_factory=list)


class QueueUnavailable(Exception):
    """The queue could not be read (tool missing, mail system down, no permission)."""


def summarize(messages: list[QueuedMessage], source: str, reasons_known: bool = True) -> QueueReport:
    report = QueueReport(source, messages=len(messages))
    if not reasons_known:
        report.callout_deferred = None
    for msg in messages:
        if not msg.deferred:
            continue
        report.deferred += 1
        report.oldest_deferred = max(report.oldest_deferred, msg.age or 0.0)
        if reasons_known and msg.callout:
            report.callout_deferred = (report.callout_deferred or 0) + 1
            report.oldest_callout = max(report.oldest_callout, msg.age or 0.0)
            reason = next(r for r in msg.reasons if CALLOUT_RE.search(r))
            if len(report.examples) < 3:
                report.examples.append(
                    f"{msg.queue_id} from <{sanitize(msg.sender, 80)}>: {sanitize(reason, 160)}"
                )
    return report


# -- Postfix -----------------------------------------------------------------------------


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


def read_postfix_queue(confdir: str | None, deadline: float | None) -> QueueReport:
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


# -- Exim --------------------------------------------------------------------------------

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


def read_exim_queue(config: str | None, deadline: float | None) -> QueueReport:
    tool = find_tool(("exim4", "exim"))
    if not tool:
        raise QueueUnavailable("exim not found")
    base = [tool] + (["-C", config] if config else [])
    try:
        rc, out, err = run_command(base + ["-bp"], deadline)
    except subprocess.TimeoutExpired:
        raise QueueUnavailable("exim -bp did not answer in time") from None
    except OSError as exc:
        raise QueueUnavailable(f"exim: {exc.strerror or exc}") from None
    if rc != 0 and not out.strip():
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
            rc, log, _ = run_command(base + ["-Mvl", msg.queue_id], deadline)
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


# -- spool directories of nullmailer and dma -----------------------------------------------


def _spool_files(path: str, prefix: str = "") -> list[tuple[str, float]]:
    now = time.time()
    found: list[tuple[str, float]] = []
    with os.scandir(path) as entries:
        for count, entry in enumerate(entries):
            if count >= MAX_MESSAGES:
                break
            if entry.name.startswith(prefix) and not entry.name.startswith(".") and entry.is_file():
                found.append((entry.path, max(0.0, now - entry.stat().st_mtime)))
    return found


def _head(path: str, limit: int = 4096) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return ""


def read_nullmailer_queue(root: str = "/") -> QueueReport:
    """nullmailer keeps one file per message (sender, recipients, blank line, message)."""
    path = under(root, "/var/spool/nullmailer/queue")
    try:
        files = _spool_files(path)
    except OSError as exc:
        raise QueueUnavailable(f"{path}: {exc.strerror or exc}") from None
    messages = [
        QueuedMessage(
            queue_id=os.path.basename(name),
            queue="deferred" if age >= STUCK_AFTER else "incoming",
            sender=_head(name, 1024).partition("\n")[0].strip(),
            age=age,
        )
        for name, age in files
    ]
    report = summarize(messages, path, reasons_known=False)
    report.notes.append("nullmailer keeps deferral reasons only in its log: callouts not counted")
    failed = under(root, "/var/spool/nullmailer/failed")
    try:
        count = len(_spool_files(failed))
        if count:
            report.notes.append(f"{count} messages in {failed}")
    except OSError:
        pass
    return report


def read_dma_queue(root: str = "/") -> QueueReport:
    path = under(root, "/var/spool/dma")
    try:
        files = _spool_files(path, prefix="Q")
    except OSError as exc:
        raise QueueUnavailable(f"{path}: {exc.strerror or exc}") from None
    messages = []
    for name, age in files:
        sender = ""
        for line in _head(name).splitlines():
            if line.startswith("Sender:"):
                sender = line.partition(":")[2].strip()
                break
        messages.append(
            QueuedMessage(
                os.path.basename(name), "deferred" if age >= STUCK_AFTER else "incoming", sender, age
            )
        )
    report = summarize(messages, path, reasons_known=False)
    report.notes.append("dma keeps deferral reasons only in its log: callouts not counted")
    return report


def read_queue(
    mta: str,
    root: str = "/",
    *,
    postfix_config: str | None = None,
    exim_config: str | None = None,
    deadline: float | None = None,
) -> QueueReport:
    """The queue of ``mta``; raises :class:`QueueUnavailable` with a reason."""
    if mta == "postfix":
        confdir = postfix_config or (None if root in ("", "/") else under(root, "/etc/postfix"))
        return read_postfix_queue(confdir, deadline)
    if mta == "exim":
        if root not in ("", "/") and not exim_config:
            raise QueueUnavailable("the Exim queue under another root is not read")
        return read_exim_queue(exim_config, deadline)
    if mta == "nullmailer":
        return read_nullmailer_queue(root)
    if mta == "dma":
        return read_dma_queue(root)
    if mta in ("ssmtp", "msmtp"):
        report = QueueReport(f"{mta} (no queue)", callout_deferred=0)
        report.notes.append(f"{mta} has no queue: it delivers while the sender waits")
        return report
    raise QueueUnavailable(f"reading the {mta} queue is not supported")

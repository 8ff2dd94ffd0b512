"""The Exim queue: ``exim -bp`` (streamed: counted as the lines arrive, never held whole)
and the oldest messages' logs (``exim -Mvl``) for deferral reasons."""

from __future__ import annotations

import heapq
import re
import subprocess
import time

from check_nullmailer.access import needs_sudo, user_name
from check_nullmailer.host import find_tool, stream_lines
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnreadable, Tally
from check_nullmailer.mta.queue_listing import check_read_whole, note_capped, stream_listing

MAX_DETAIL = 200  # messages whose log is read for reasons
MAX_LINES = MAX_MESSAGES * 4  # lines of exim -bp read (a message, its recipients, a blank line)


_BP_HEAD = re.compile(
    r"^\s*(?P<age>\d+)(?P<unit>[smhd])\s+(?P<size>\S+)\s+(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})"
    r"\s+<(?P<sender>[^>]*)>(?P<frozen>\s+\*\*\* frozen \*\*\*)?"
)
# a recipient still to deliver, or one delivered ("D ", "+D " for a child address):
# one word, indented, below its message's line
_BP_RECIPIENT = re.compile(r'^\s+(?:\+?D\s+)?(?:"[^"]*"|[^\s"])+\s*$')
# A message whose spool header Exim itself cannot read is listed (Exim 4.96) as its id
# alone on an indented line, then "    *** spool format error: size=60 ***" (or "spool read
# error: REASON"): a message, stuck, its age and sender unknown.
_BP_BROKEN = re.compile(r"^\s+(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})\s*$")
_BP_SPOOL_ERROR = re.compile(r"^\s+\*\*\* spool (?:format|read) error\b.*\*\*\*\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_exim_age(text: str) -> float | None:
    """``25m``, ``3h``, ``2d`` as seconds (Exim's queue listing is this coarse)."""
    m = re.fullmatch(r"(\d+)([smhd])", text.strip())
    return float(int(m.group(1)) * _UNITS[m.group(2)]) if m else None


def _message(m: re.Match[str]) -> QueuedMessage:
    return QueuedMessage(
        queue_id=m.group("id"),
        queue="queued",
        sender=m.group("sender"),
        age=float(int(m.group("age")) * _UNITS[m.group("unit")]),
        frozen=bool(m.group("frozen")),
    )


def parse_exim_bp(text: str) -> list[QueuedMessage]:
    """Messages of ``exim -bp``; the recipients still to deliver are not needed here."""
    messages: list[QueuedMessage] = []
    for line in text.splitlines()[: MAX_MESSAGES * 4]:
        m = _BP_HEAD.match(line)
        if m:
            messages.append(_message(m))
    return messages


class BpListing:
    """``exim -bp`` read a line at a time (:meth:`line`): every message counted as it
    arrives, only the :data:`MAX_DETAIL` oldest kept (their logs are read for reasons);
    the others are counted deferred at once, so a million queued messages are never
    held.  A line in no known format stops the reading and is kept in ``unknown``."""

    def __init__(self) -> None:
        self.count = 0
        self.oldest: list[tuple[float, int, QueuedMessage]] = []  # a heap, youngest first
        self.tally = Tally("exim -bp")
        self.unknown: str | None = None
        self.in_message = False
        self.broken: list[str] = []  # ids of messages whose spool file Exim could not read

    def line(self, text: str, whole: bool) -> bool:
        """Take one line; True to stop reading (a line not understood, or enough messages)."""
        if whole and not text.strip():
            self.in_message = False
            return False
        m = _BP_HEAD.match(text) if whole else None
        if m:
            self.count += 1
            self.in_message = True
            msg = _message(m)
            heapq.heappush(self.oldest, (msg.age or 0.0, self.count, msg))
            if len(self.oldest) > MAX_DETAIL:
                younger = heapq.heappop(self.oldest)[2]
                younger.queue = "deferred"  # counted, reasons not read
                self.tally.add(younger)
            return self.count >= MAX_MESSAGES
        broken = _BP_BROKEN.match(text) if whole and not self.in_message else None
        if broken:
            self.count += 1
            self.in_message = True
            self.broken.append(broken.group("id"))
            self.tally.add(QueuedMessage(broken.group("id"), "deferred", ""))
            return self.count >= MAX_MESSAGES
        if whole and self.in_message and (_BP_RECIPIENT.match(text) or _BP_SPOOL_ERROR.match(text)):
            return False
        self.unknown = text
        return True


_MSGLOG_DEFER = re.compile(r"^\S+ \S+ (?P<rcpt>\S+) .*?\bdefer \([-0-9]+\)(?P<rest>.*)$")


MAX_LOG_LINES = 10_000  # lines of one message log read


def _take_deferral(line: str, reasons: dict[str, str]) -> None:
    m = _MSGLOG_DEFER.match(line)
    if m:
        reasons[m.group("rcpt")] = m.group("rest").lstrip(": ")


def parse_exim_msglog(text: str) -> dict[str, str]:
    """The latest deferral reason per recipient in a message log (``exim -Mvl``)."""
    reasons: dict[str, str] = {}
    for line in text.splitlines()[:MAX_LOG_LINES]:
        _take_deferral(line, reasons)
    return reasons


def read_msglog(argv: list[str], deadline: float | None, sudo: bool) -> tuple[int, dict[str, str]]:
    """``exim -Mvl ID`` streamed (a message log never read whole): its exit status (1
    when it could not be run) and the latest deferral reason per recipient in its first
    :data:`MAX_LOG_LINES` lines."""
    reasons: dict[str, str] = {}

    def on_line(line: str, whole: bool) -> bool:
        _take_deferral(line, reasons)
        return False

    try:
        done = stream_lines(argv, deadline, on_line, MAX_LOG_LINES, sudo)
    except (OSError, subprocess.SubprocessError):
        return 1, {}
    return (done.returncode or 0), reasons


# Exim lists its queue (-bp) and message logs (-Mvl) for admin users only: root, the
# Exim user and group (Debian-exim); others get "exim: permission denied".
_NOT_ADMIN = re.compile(r"permission denied|not an admin", re.IGNORECASE)


def read_queue(config: str | None, deadline: float | None, sudo: bool = False) -> QueueReport:
    """``exim -bp`` streamed (:class:`BpListing`), then ``exim -Mvl`` for the oldest
    messages' deferral reasons.  A listing with a line in no known format, or one that
    ends with an error, could not be read (QueueUnreadable): never counted as empty."""
    tool = find_tool(("exim4", "exim"))
    if not tool:
        raise QueueUnreadable("exim not found")
    base = [tool] + (["-C", config] if config else [])
    listing = BpListing()
    done = stream_listing(base + ["-bp"], "exim -bp", listing.line, MAX_LINES, deadline, sudo)

    def advice(err: str) -> str:
        hint = needs_sudo(f"{tool} -bp", err, sudo)
        if not sudo:
            hint += f", or add {user_name()} to group Debian-exim (Exim's admin group)"
        return hint

    check_read_whole(done, "exim -bp", listing.unknown, listing.count, _NOT_ADMIN, advice)
    examined = _read_reasons(base, listing, deadline, sudo)
    report = listing.tally.report
    if listing.broken:
        report.notes.append(
            f"exim -bp: {len(listing.broken)} messages whose spool file Exim cannot read "
            f"(spool format or read error), counted as deferred: {', '.join(listing.broken[:3])}"
        )
    if done.capped:
        note_capped(report, "exim -bp", listing.count)
    if examined < listing.count:
        least = "at least " if done.capped else ""
        report.notes.append(f"reasons read for the {examined} oldest of {least}{listing.count} messages only")
    return report


def _read_reasons(base: list[str], listing: BpListing, deadline: float | None, sudo: bool) -> int:
    """Read the logs of the oldest messages kept (while time allows) and count them;
    the number of logs read."""
    examined = 0
    for _age, _seq, msg in sorted(listing.oldest, key=lambda item: (-item[0], item[1])):
        if deadline is not None and deadline - time.monotonic() < 1.0:
            msg.queue = "deferred"  # counted, reasons not read
            listing.tally.add(msg)
            continue
        examined += 1
        rc, reasons = read_msglog(base + ["-Mvl", msg.queue_id], deadline, sudo)
        reasons = reasons if rc == 0 else {}
        msg.reasons = list(reasons.values())
        if reasons or msg.frozen or rc != 0:
            msg.queue = "deferred"
        listing.tally.add(msg)
    return examined

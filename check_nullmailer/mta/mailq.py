"""The send-only MTAs' own queue listings, read when their spool is closed to the
monitoring user: nullmailer's ``mailq`` and ``dma -bp`` (set-id, so any user may run
them).  Streamed like ``postqueue -j``: each message counted as its line arrives, the
tool stopped after ``MAX_MESSAGES`` messages ("at least N"), and a line in no known
format makes the listing "could not read" (never an empty queue)."""

from __future__ import annotations

import re
import subprocess
import time

from check_callout.kit.text import sanitize
from check_nullmailer.access import grant_hint, user_name
from check_nullmailer.host import stream_lines
from check_nullmailer.mta.base import MAX_MESSAGES, QueuedMessage, QueueReport, QueueUnreadable, Tally
from check_nullmailer.mta.queue_listing import note_capped
from check_nullmailer.mta.spool import STUCK_AFTER

MAX_LINES = MAX_MESSAGES * 8  # lines read (a message and its recipients)

# nullmailer's mailq, as seen in the lab:
#   2026-12-02 02:52:12 324 bytes from <www-data@web1.example.test>
#     to <someone@dest.test>
# The time is the message's queue time (its file name), in local time.
NULLMAILER_FROM = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+\d+ bytes from <([^>]*)>\s*$")
NULLMAILER_TO = re.compile(r"^\s+to <[^>]*>\s*$")
# dma -bp, as seen in the lab ("ID\t: 21.558b5b6deb30", "From\t: ...", "To\t: ..."), or
# "Mail queue is empty"; a line of two dashes between messages is taken too
DMA_ID = re.compile(r"^ID\s*:\s*(\S+)\s*$")
DMA_OTHER = re.compile(r"^(?:(?:From|To)\s*:.*|--)\s*$")
DMA_EMPTY = "Mail queue is empty"


class Listing:
    """One listing read a line at a time (:meth:`line`); ``kind`` is ``nullmailer`` or
    ``dma``.  Messages go straight into ``tally``; ``unknown`` keeps the first line in no
    known format (the reading stops there)."""

    def __init__(self, kind: str, source: str, now: float | None = None) -> None:
        self.kind = kind
        self.now = time.time() if now is None else now
        self.tally = Tally(source, reasons_known=False)
        self.count = 0
        self.unknown: str | None = None
        self.said_empty = False

    def line(self, text: str, whole: bool = True) -> bool:
        """Take one line; True to stop reading (a line not understood, or enough messages)."""
        if whole and not text.strip():
            return False
        msg = self._message(text) if whole else None
        if msg is not None:
            self.count += 1
            self.tally.add(msg)
            return self.count >= MAX_MESSAGES
        if whole and self._known(text):
            return False
        self.unknown = text
        return True

    def _message(self, text: str) -> QueuedMessage | None:
        if self.kind == "dma":
            m = DMA_ID.match(text)
            # dma delivers at once when a message is submitted; a message its listing
            # still holds waits for another try: deferred (the listing gives no ages)
            return QueuedMessage(m.group(1), "deferred", "") if m else None
        m = NULLMAILER_FROM.match(text)
        if not m:
            return None
        age = max(0.0, self.now - time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")))
        queue = "deferred" if age >= STUCK_AFTER else "incoming"
        return QueuedMessage(str(self.count + 1), queue, m.group(2), age)

    def _known(self, text: str) -> bool:
        if self.kind == "dma":
            if text.strip() == DMA_EMPTY:
                self.said_empty = True
                return True
            return bool(DMA_OTHER.match(text))
        return bool(NULLMAILER_TO.match(text))


def read_listing(argv: list[str], kind: str, path: str, why: str, deadline: float | None) -> QueueReport:
    """Run ``argv`` (the listing of ``kind``) because ``path`` is closed (``why``) and
    count what it lists; raises QueueUnreadable when it cannot be read whole."""
    shown = " ".join([argv[0], *argv[1:]])
    listing = Listing(kind, f"{shown} (the spool is closed to {user_name()})")
    reason = f"{path}: {why}"
    try:
        done = stream_lines(argv, deadline, listing.line, MAX_LINES)
    except (OSError, subprocess.SubprocessError) as exc:
        raise QueueUnreadable(f"{reason}, and {shown} failed ({exc}); {grant_hint(path)}") from None
    if done.returncode not in (0, None):
        said = done.stderr.strip() or listing.unknown or f"exit status {done.returncode}"
        raise QueueUnreadable(f"{reason}, and {shown} said {sanitize(said, 120)!r}; {grant_hint(path)}")
    if listing.unknown is not None:
        raise QueueUnreadable(f"{shown} printed a line in no known format: {sanitize(listing.unknown, 80)!r}")
    if kind == "dma" and not listing.count and not listing.said_empty:
        said = done.stderr.strip() or "nothing"
        raise QueueUnreadable(f"{reason}, and {shown} said {sanitize(said, 120)!r}; {grant_hint(path)}")
    report = listing.tally.report
    if done.capped:
        note_capped(report, shown, listing.count)
    return report

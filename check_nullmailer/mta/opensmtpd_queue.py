"""The OpenSMTPD queue: ``smtpctl show queue`` (one line per envelope), streamed like
``postqueue -j``: envelopes grouped into messages as the lines arrive, the tool stopped
after ``MAX_MESSAGES`` messages (the counts are then lower bounds, "at least N"), and a
line in no known format makes the listing "could not read" (never an empty queue)."""

from __future__ import annotations

import re
import time

from check_nullmailer.access import needs_sudo
from check_nullmailer.host import find_tool, is_foreign_root
from check_nullmailer.mta.base import (
    MAX_MESSAGES,
    QueuedMessage,
    QueueReport,
    QueueUnavailable,
    QueueUnreadable,
    summarize,
)
from check_nullmailer.mta.queue_listing import check_read_whole, note_capped, stream_listing

MAX_LINES = MAX_MESSAGES * 4  # envelopes of smtpctl show queue read
# what smtpctl says to a user who is not root (seen in the lab: see read_queue)
_NOT_ROOT = re.compile(r"permission denied|need root|not permitted|command failed", re.IGNORECASE)


def _envelope(line: str) -> tuple[list[str], float, int] | None:
    """One envelope line's fields, creation time and retry count; None if it is not one."""
    fields = line.split("|", 13)
    if len(fields) < 12 or not re.fullmatch(r"[0-9a-f]{16}", fields[0]):
        return None
    try:
        return fields, float(fields[7]), int(fields[10])
    except ValueError:
        return None


class ShowQueue:
    """``smtpctl show queue`` read a line at a time (:meth:`line`).

    One line per envelope (recipient),
    ``evpid|src|type|flags|sender|rcpt|dest|ctime|lasttry|lastbounce|retry|state|...|errorline``.
    The lab's line after a 451: ``3a21...|local|mta|auth|www-data@web1.example.test|
    someone@dest.test|someone@dest.test|1796179932|1796179932|0|1|pending|400|451 Could not
    complete sender verify callout``.  An envelope tried at least once (retry > 0) is
    deferred; its last error line is the reason.  Envelopes are grouped by message id
    (the first 8 hex digits of the envelope id).  ``strict``: a line that is not an
    envelope stops the reading and is kept in ``unknown`` (else it is skipped)."""

    def __init__(self, now: float, strict: bool = True) -> None:
        self.now = now
        self.strict = strict
        self.messages: dict[str, QueuedMessage] = {}
        self.unknown: str | None = None

    def line(self, text: str, whole: bool = True) -> bool:
        """Take one line (a cut one too: the fields come first); True to stop reading."""
        if not text.strip():
            return False
        envelope = _envelope(text)
        if envelope is None:
            if self.strict:
                self.unknown = text
            return self.strict
        fields, created, retries = envelope
        msgid = fields[0][:8]
        msg = self.messages.get(msgid)
        if msg is None:
            msg = self.messages[msgid] = QueuedMessage(
                msgid, "incoming", fields[4], max(0.0, self.now - created)
            )
        if retries > 0:
            msg.queue = "deferred"
            if len(fields) > 13 and fields[13].strip():
                msg.reasons.append(fields[13].strip())
        return len(self.messages) >= MAX_MESSAGES


def parse_show_queue(text: str, now: float | None = None) -> list[QueuedMessage]:
    """Messages of ``smtpctl show queue`` output (lines that are not envelopes skipped)."""
    listing = ShowQueue(time.time() if now is None else now, strict=False)
    for line in text.splitlines()[:MAX_LINES]:
        listing.line(line)
    return list(listing.messages.values())


def read_queue(root: str = "/", deadline: float | None = None, sudo: bool = False) -> QueueReport:
    """``smtpctl show queue``: root's (smtpctl refuses it to other users)."""
    if is_foreign_root(root):
        raise QueueUnavailable("the OpenSMTPD queue under another root is not read")
    tool = find_tool(("smtpctl",))
    if not tool:
        raise QueueUnreadable("smtpctl not found")
    listing = ShowQueue(time.time())
    shown = "smtpctl show queue"
    done = stream_listing([tool, "show", "queue"], shown, listing.line, MAX_LINES, deadline, sudo)
    check_read_whole(
        done,
        shown,
        listing.unknown,
        len(listing.messages),
        _NOT_ROOT,
        lambda err: needs_sudo(f"{tool} show queue", err, sudo),
    )
    report = summarize(listing.messages.values(), shown)
    if done.capped:
        note_capped(report, shown, report.messages)
    return report

"""nullmailer: its control files in ``/etc/nullmailer`` and its spool directory."""

from __future__ import annotations

import os
import re
import time

from check_nullmailer.access import grant_hint, unreadable
from check_nullmailer.host import (
    domain_of,
    find_tool,
    first_word,
    is_foreign_root,
    local_hostname,
    read_text,
    under,
)
from check_nullmailer.mta.base import (
    MAX_MESSAGES,
    MTA,
    MTAInfo,
    QueuedMessage,
    QueueReport,
    QueueUnreadable,
    no_listener,
    optional_word,
    summarize,
)
from check_nullmailer.mta.mailq import read_listing
from check_nullmailer.mta.spool import STUCK_AFTER, head, mark_capped, spool_files


def _control(path: str, info: MTAInfo | None = None) -> str | None:
    """The first word of a control file; None when it is absent (nullmailer's default
    applies).  One that is there but cannot be read whole is named in ``info``."""
    try:
        return first_word(path)
    except OSError as exc:
        if info is not None and not getattr(exc, "missing", isinstance(exc, FileNotFoundError)):
            info.notes.append(unreadable(path, exc))
            info.unread.append(exc)
        return None


NO_REMOTES = "nullmailer-send says 'No remote hosts listed for delivery'"
DEBIAN_MARK = "/usr/share/doc/nullmailer/changelog.Debian.gz"


def _remotes(base: str) -> str:
    """Why nullmailer will send nothing because of its remotes file, or ""."""
    path = os.path.join(base, "remotes")
    try:
        lines = [line.split("#", 1)[0].strip() for line in read_text(path).splitlines()]
    except OSError:
        if not os.path.exists(path):
            return f"sends nothing: {path} is missing: {NO_REMOTES}; list the relay there"
        raise
    if not any(lines):
        return f"sends nothing: {path} is empty: {NO_REMOTES}; list the relay there"
    return ""


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("nullmailer")
    no_listener(info)
    base = under(root, "/etc/nullmailer")
    info.config = base
    if not os.path.isdir(base):
        info.notes.append(f"{base}: not found")
        return info
    try:
        info.refuses = _remotes(base)
    except OSError as exc:
        path = os.path.join(base, "remotes")
        info.notes.append(f"the relay list was not checked: {unreadable(path, exc)}")
        info.unread.append(exc)
    allmailfrom = _control(os.path.join(base, "allmailfrom"), info)
    if allmailfrom:
        info.origin = domain_of(allmailfrom)
        info.origin_text = f"nullmailer allmailfrom = {allmailfrom}"
        return info
    defaulthost = _control(os.path.join(base, "defaulthost"), info)
    if os.path.exists(under(root, DEBIAN_MARK)):
        # Debian's nullmailer reads /etc/mailname where upstream reads /etc/nullmailer/me
        # (Debian patch; /etc/nullmailer/me is ignored), and without /etc/mailname it
        # falls back to the literal name "defaulthost", not to the host name: the lab saw
        # MAIL FROM:<www-data@defaulthost.example.test> on a host called web1.
        try:
            me, me_source = optional_word(info, under(root, "/etc/mailname")), "/etc/mailname"
        except OSError:
            return info  # named: nullmailer would read it, the sender cannot be told
        fallback, fallback_source = "defaulthost", "the literal fallback (no /etc/mailname)"
    else:
        me, me_source = _control(os.path.join(base, "me"), info), "me"
        fallback, fallback_source = local_hostname(root)
    name = defaulthost or me or fallback
    source = "defaulthost" if defaulthost else me_source if me else fallback_source
    text = f"nullmailer {source} = {name}"
    if "." not in name and name != "localhost":
        domain = _control(os.path.join(base, "defaultdomain"), info)
        if domain:
            name = f"{name}.{domain}"
            text = f"nullmailer {source} + defaultdomain = {name}"
    info.origin = name.rstrip(".").lower()
    info.origin_text = text
    return info


# nullmailer's mailq (setuid mail, so any user may run it), as seen in the lab:
#   2026-12-02 02:52:12 324 bytes from <www-data@web1.example.test>
#     to <someone@dest.test>
# The time is the message's queue time (its file name), in local time.
_MAILQ = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+\d+ bytes from <([^>]*)>", re.MULTILINE)


def parse_mailq(text: str, now: float | None = None) -> list[QueuedMessage]:
    now = time.time() if now is None else now
    messages = []
    for number, (when, sender) in enumerate(_MAILQ.findall(text)[:MAX_MESSAGES]):
        age = max(0.0, now - time.mktime(time.strptime(when, "%Y-%m-%d %H:%M:%S")))
        messages.append(
            QueuedMessage(str(number + 1), "deferred" if age >= STUCK_AFTER else "incoming", sender, age)
        )
    return messages


def _queue_by_mailq(path: str, exc: OSError, deadline: float | None) -> QueueReport:
    """The spool is closed to this user (0750 mail:root): nullmailer's own mailq is not."""
    tool = find_tool(("mailq",))
    if not tool:
        raise QueueUnreadable(f"{path}: {exc.strerror}; {grant_hint(path)}") from None
    report = read_listing([tool], "nullmailer", path, exc.strerror or str(exc), deadline)
    report.notes.append("nullmailer keeps deferral reasons only in its log: callouts not counted")
    return report


def read_queue(root: str = "/", deadline: float | None = None) -> QueueReport:
    """nullmailer keeps one file per message (sender, recipients, blank line, message)."""
    path = under(root, "/var/spool/nullmailer/queue")
    try:
        files, capped = spool_files(path)
    except PermissionError as exc:
        if is_foreign_root(root):
            raise QueueUnreadable(f"{path}: {exc.strerror}; {grant_hint(path)}") from None
        return _queue_by_mailq(path, exc, deadline)
    except OSError as exc:
        raise QueueUnreadable(f"{path}: {exc.strerror or exc}") from None
    messages = [
        QueuedMessage(
            queue_id=os.path.basename(name),
            queue="deferred" if age >= STUCK_AFTER else "incoming",
            sender=head(name, 1024).partition("\n")[0].strip(),
            age=age,
        )
        for name, age in files
    ]
    report = summarize(messages, path, reasons_known=False)
    mark_capped(report, path, capped)
    report.notes.append("nullmailer keeps deferral reasons only in its log: callouts not counted")
    failed = under(root, "/var/spool/nullmailer/failed")
    try:
        failed_files, more = spool_files(failed)
        if failed_files:
            report.notes.append(f"{'at least ' if more else ''}{len(failed_files)} messages in {failed}")
    except OSError:
        pass
    return report


NULLMAILER = MTA(
    name="nullmailer",
    label="nullmailer",
    markers=("/etc/nullmailer",),
    sendmail_hint="nullmailer",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root, src.deadline),
    fix="set allmailfrom to an address @{alt} (",
)

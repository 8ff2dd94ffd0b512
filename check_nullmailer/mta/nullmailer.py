"""nullmailer: its control files in ``/etc/nullmailer`` and its spool directory."""

from __future__ import annotations

import os

from check_nullmailer.host import domain_of, first_word, local_hostname, under
from check_nullmailer.mta.base import (
    MTA,
    MTAInfo,
    QueuedMessage,
    QueueReport,
    QueueUnavailable,
    no_listener,
    summarize,
)
from check_nullmailer.mta.spool import STUCK_AFTER, head, spool_files


def _control(path: str) -> str | None:
    try:
        return first_word(path)
    except OSError:
        return None


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("nullmailer")
    no_listener(info)
    base = under(root, "/etc/nullmailer")
    info.config = base
    if not os.path.isdir(base):
        info.notes.append(f"{base}: not found")
        return info
    allmailfrom = _control(os.path.join(base, "allmailfrom"))
    if allmailfrom:
        info.origin = domain_of(allmailfrom)
        info.origin_text = f"nullmailer allmailfrom = {allmailfrom}"
        return info
    me = _control(os.path.join(base, "me"))
    host, where = local_hostname(root)
    defaulthost = _control(os.path.join(base, "defaulthost"))
    name = defaulthost or me or host
    source = "defaulthost" if defaulthost else "me" if me else where
    text = f"nullmailer {source} = {name}"
    if "." not in name and name != "localhost":
        domain = _control(os.path.join(base, "defaultdomain"))
        if domain:
            name = f"{name}.{domain}"
            text = f"nullmailer {source} + defaultdomain = {name}"
    info.origin = name.rstrip(".").lower()
    info.origin_text = text
    return info


def read_queue(root: str = "/") -> QueueReport:
    """nullmailer keeps one file per message (sender, recipients, blank line, message)."""
    path = under(root, "/var/spool/nullmailer/queue")
    try:
        files = spool_files(path)
    except OSError as exc:
        raise QueueUnavailable(f"{path}: {exc.strerror or exc}") from None
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
    report.notes.append("nullmailer keeps deferral reasons only in its log: callouts not counted")
    failed = under(root, "/var/spool/nullmailer/failed")
    try:
        count = len(spool_files(failed))
        if count:
            report.notes.append(f"{count} messages in {failed}")
    except OSError:
        pass
    return report


NULLMAILER = MTA(
    name="nullmailer",
    label="nullmailer",
    markers=("/etc/nullmailer",),
    sendmail_hint="nullmailer",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root),
    fix="set allmailfrom to an address @{alt} (",
)

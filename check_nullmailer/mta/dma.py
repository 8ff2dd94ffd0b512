"""dma (DragonFly Mail Agent): ``/etc/dma/dma.conf`` and its spool directory."""

from __future__ import annotations

import os
import re

from check_nullmailer.access import grant_hint, unreadable
from check_nullmailer.host import (
    find_tool,
    is_foreign_root,
    key_values,
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


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("dma")
    no_listener(info)
    path = under(root, "/etc/dma/dma.conf")
    info.config = path
    try:
        conf = key_values(read_text(path), sep=" ")
    except OSError as exc:
        info.notes.append(unreadable(path, exc))
        info.unread.append(exc)
        return info
    masquerade = conf.get("masquerade", "")
    if masquerade:
        domain = masquerade.rpartition("@")[2] if "@" in masquerade else masquerade
        if domain:
            info.origin, info.origin_text = domain, f"dma MASQUERADE {masquerade}"
    if not info.origin:
        name_setting = conf.get("mailname", "/etc/mailname")
        name = None
        if name_setting.startswith("/"):
            try:
                name = optional_word(info, under(root, name_setting))
            except OSError:
                return info  # named: dma would read it, the sender cannot be told
        else:
            name = name_setting
        if name:
            info.origin, info.origin_text = (
                name,
                f"dma MAILNAME {name_setting}" + (f" = {name}" if name != name_setting else ""),
            )
        else:
            host, where = local_hostname(root)
            info.origin, info.origin_text = host, f"dma: no MASQUERADE or MAILNAME, {where} = {host}"
    info.origin = (info.origin or "").rstrip(".").lower() or None
    return info


# dma's mailq (dma -bp; setgid mail, so any user may run it), as seen in the lab:
#   ID\t: 21.558b5b6deb30
#   From\t: www-data@web1.example.test
#   To\t: someone@dest.test
_MAILQ = re.compile(r"^ID\s*:\s*(\S+)\s*\nFrom\s*:\s*(\S*)", re.MULTILINE)


def parse_mailq(text: str) -> list[QueuedMessage]:
    """dma delivers at once when a message is submitted; a message its mailq still lists
    is waiting for another try: deferred (the listing gives no ages)."""
    return [QueuedMessage(qid, "deferred", sender) for qid, sender in _MAILQ.findall(text)[:MAX_MESSAGES]]


def _queue_by_mailq(path: str, exc: OSError, deadline: float | None) -> QueueReport:
    """The spool is closed to this user (2770 root:mail): dma's own listing is not."""
    tool = find_tool(("dma",))
    if not tool:
        raise QueueUnreadable(f"{path}: {exc.strerror}; {grant_hint(path)}") from None
    report = read_listing([tool, "-bp"], "dma", path, exc.strerror or str(exc), deadline)
    report.notes.append("dma -bp gives no ages: every listed message counts as deferred")
    report.notes.append("dma keeps deferral reasons only in its log: callouts not counted")
    return report


def read_queue(root: str = "/", deadline: float | None = None) -> QueueReport:
    path = under(root, "/var/spool/dma")
    try:
        files, capped = spool_files(path, prefix="Q")
    except PermissionError as exc:
        if is_foreign_root(root):
            raise QueueUnreadable(f"{path}: {exc.strerror}; {grant_hint(path)}") from None
        return _queue_by_mailq(path, exc, deadline)
    except OSError as exc:
        raise QueueUnreadable(f"{path}: {exc.strerror or exc}") from None
    messages = []
    for name, age in files:
        sender = ""
        for line in head(name).splitlines():
            if line.startswith("Sender:"):
                sender = line.partition(":")[2].strip()
                break
        messages.append(
            QueuedMessage(
                os.path.basename(name), "deferred" if age >= STUCK_AFTER else "incoming", sender, age
            )
        )
    report = summarize(messages, path, reasons_known=False)
    mark_capped(report, path, capped)
    report.notes.append("dma keeps deferral reasons only in its log: callouts not counted")
    return report


DMA = MTA(
    name="dma",
    label="dma",
    markers=("/etc/dma/dma.conf",),
    sendmail_hint="dma",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root, src.deadline),
    fix="set MASQUERADE @{alt} in dma.conf (",
)

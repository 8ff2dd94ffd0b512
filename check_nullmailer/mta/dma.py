"""dma (DragonFly Mail Agent): ``/etc/dma/dma.conf`` and its spool directory."""

from __future__ import annotations

import os

from check_nullmailer.host import first_word, key_values, local_hostname, read_text, under, why
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


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("dma")
    no_listener(info)
    path = under(root, "/etc/dma/dma.conf")
    info.config = path
    try:
        conf = key_values(read_text(path), sep=" ")
    except OSError as exc:
        info.notes.append(f"{path}: {why(exc)}")
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
                name = first_word(under(root, name_setting))
            except OSError:
                name = None
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


def read_queue(root: str = "/") -> QueueReport:
    path = under(root, "/var/spool/dma")
    try:
        files = spool_files(path, prefix="Q")
    except OSError as exc:
        raise QueueUnavailable(f"{path}: {exc.strerror or exc}") from None
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
    report.notes.append("dma keeps deferral reasons only in its log: callouts not counted")
    return report


DMA = MTA(
    name="dma",
    label="dma",
    markers=("/etc/dma/dma.conf",),
    sendmail_hint="dma",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root),
    fix="set MASQUERADE @{alt} in dma.conf (",
)

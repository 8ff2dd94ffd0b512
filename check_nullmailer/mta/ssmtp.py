"""ssmtp: ``/etc/ssmtp/ssmtp.conf``; no queue, no SMTP server."""

from __future__ import annotations

import os

from check_nullmailer.access import unreadable
from check_nullmailer.host import key_values, local_hostname, read_text, under
from check_nullmailer.mta.base import MTA, MTAInfo, no_listener, no_queue


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("ssmtp")
    no_listener(info)
    path = under(root, "/etc/ssmtp/ssmtp.conf")
    info.config = path
    try:
        conf = key_values(read_text(path))
    except OSError as exc:
        # /etc/ssmtp is 0750 root:mail: for the monitoring user the file is not missing
        # but closed (PermissionError), and it must not be taken for "sends nothing".
        missing = getattr(exc, "missing", isinstance(exc, FileNotFoundError))
        if missing and os.path.exists(under(root, "/usr/sbin/ssmtp")):
            # without its file ssmtp relays to the host called "mailhub"
            info.refuses = (
                f"sends nothing: {path} is missing and ssmtp says 'Cannot open mailhub:25'; "
                "write it with mailhub=YOUR-RELAY"
            )
        else:
            info.notes.append(unreadable(path, exc))
            info.unread.append(exc)
        return info
    if conf.get("rewritedomain"):
        info.origin, info.origin_text = (
            conf["rewritedomain"],
            f"ssmtp rewriteDomain = {conf['rewritedomain']}",
        )
    elif conf.get("hostname"):
        info.origin, info.origin_text = conf["hostname"], f"ssmtp hostname = {conf['hostname']}"
    else:
        host, where = local_hostname(root)
        info.origin, info.origin_text = host, f"ssmtp: no rewriteDomain or hostname, {where} = {host}"
    info.origin = info.origin.rstrip(".").lower()
    return info


SSMTP = MTA(
    name="ssmtp",
    label="ssmtp",
    markers=("/etc/ssmtp/ssmtp.conf",),
    sendmail_hint="ssmtp",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: no_queue("ssmtp"),
    fix="set rewriteDomain={alt} in ssmtp.conf (",
)

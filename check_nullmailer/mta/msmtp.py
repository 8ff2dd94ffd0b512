"""msmtp: ``/etc/msmtprc`` (its ``default`` account's ``from`` or ``auto_from``, read as
msmtp reads it: :mod:`check_nullmailer.mta.msmtprc`); no queue, no SMTP server."""

from __future__ import annotations

import os

from check_nullmailer.access import unreadable
from check_nullmailer.host import canonical_name, domain_of, local_hostname, read_text, under
from check_nullmailer.mta.base import MTA, MTAInfo, no_listener, no_queue, optional_word
from check_nullmailer.mta.msmtprc import MsmtprcError, sender_account

_FIX = "correct it as msmtp --pretend shows (an account default with host and from)"


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("msmtp")
    no_listener(info)
    path = under(root, "/etc/msmtprc")
    info.config = path
    try:
        account = sender_account(read_text(path), path)
    except MsmtprcError as exc:
        info.refuses = f"sends nothing: sendmail says '{exc}'; {_FIX}"
        return info
    except OSError as exc:
        missing = getattr(exc, "missing", isinstance(exc, FileNotFoundError))
        if missing and os.path.exists(under(root, "/usr/bin/msmtp")):
            # msmtp-mta installs no configuration: its sendmail then refuses every message
            info.refuses = (
                "sends nothing: sendmail says 'account default not found: no configuration file available'; "
                f"write {path} with an account default (host, from)"
            )
        else:
            info.notes.append(unreadable(path, exc))
            info.unread.append(exc)
        return info
    conf = account.values
    host, where = local_hostname(root)
    label = "msmtp account default"
    if account.parents:
        label += f" (inherits account {', '.join(account.parents)})"
    if account.evaluated:
        info.notes.append(
            f"{label} has eval lines (a command's output, not run by this check): its sender cannot be told"
        )
        return info
    sender = conf.get("from", "")
    if conf.get("auto_from", "off") == "on":  # it wins over from, wherever it stands
        domain = conf.get("maildomain", "")
        if not domain:
            info.refuses = (
                f"sends MAIL FROM:<user> with no @domain: {label} has auto_from on and no maildomain; "
                "set maildomain to a domain whose MX accepts it"
            )
            return info
        info.origin, info.origin_text = domain, f"{label}: auto_from with maildomain = {domain}"
    elif sender:
        domain = domain_of(sender)
        # %H is the host name, %C its canonical name (the lab: web1 -> web1.example.test
        # through /etc/hosts), %M /etc/mailname.
        if "%m" in domain:
            try:
                domain = domain.replace("%m", optional_word(info, under(root, "/etc/mailname")) or host)
            except OSError:
                return info  # named: msmtp would read it, the sender cannot be told
        for pattern, value in (("%H", host), ("%C", canonical_name(root, host))):
            domain = domain.replace(pattern.lower(), value)
        info.origin, info.origin_text = (
            domain,
            f"{label}: from {sender}" + (f" = {domain}" if "%" in sender else ""),
        )
    else:
        # msmtp 1.8 has no built-in sender: without from it refuses the message.
        info.refuses = (
            f"sends nothing: sendmail says 'account default from {path}: "
            "envelope-from address is missing'; "
            "set from to an address of a domain whose MX accepts it"
        )
    info.origin = (info.origin or "").rstrip(".").lower() or None
    return info


MSMTP = MTA(
    name="msmtp",
    label="msmtp",
    markers=("/etc/msmtprc",),
    sendmail_hint="msmtp",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: no_queue("msmtp"),
    fix="set from to an address @{alt} in msmtprc (",
)

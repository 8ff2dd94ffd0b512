"""msmtp: ``/etc/msmtprc`` (accounts, ``from``, ``auto_from``); no queue, no SMTP server."""

from __future__ import annotations

import os

from check_nullmailer.access import unreadable
from check_nullmailer.host import canonical_name, domain_of, local_hostname, mailname, read_text, under
from check_nullmailer.mta.base import MTA, MTAInfo, no_listener, no_queue


def _msmtp_accounts(text: str) -> tuple[dict[str, dict[str, str]], str | None]:
    accounts: dict[str, dict[str, str]] = {}
    defaults: dict[str, str] = {}
    current: dict[str, str] = defaults
    chosen: str | None = None
    first: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        key, value = key.lower(), value.strip()
        if key == "defaults":
            current = defaults
        elif key == "account":
            name, colon, parent = value.partition(":")
            name = name.strip()
            if name == "default" and colon:
                chosen = parent.strip()
                continue
            current = dict(defaults)
            if colon:
                for base in parent.split(","):
                    current.update(accounts.get(base.strip(), {}))
            accounts[name] = current
            first = first or name
        else:
            current[key] = value
    accounts.setdefault("", defaults)
    return accounts, chosen or ("default" if "default" in accounts else first)


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("msmtp")
    no_listener(info)
    path = under(root, "/etc/msmtprc")
    info.config = path
    try:
        accounts, chosen = _msmtp_accounts(read_text(path))
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
    conf = accounts.get(chosen or "", accounts[""])
    host, where = local_hostname(root)
    label = f"msmtp account {chosen}" if chosen else "msmtp"
    sender = conf.get("from", "")
    if sender:
        domain = domain_of(sender)
        # %H is the host name, %C its canonical name (the lab: web1 -> web1.example.test
        # through /etc/hosts), %M /etc/mailname.
        for pattern, value in (
            ("%H", host), ("%C", canonical_name(root, host)), ("%M", mailname(root) or host),
        ):  # fmt: skip
            domain = domain.replace(pattern.lower(), value)
        info.origin, info.origin_text = (
            domain,
            f"{label}: from {sender}" + (f" = {domain}" if "%" in sender else ""),
        )
    elif conf.get("auto_from", "off") == "on":
        domain = conf.get("maildomain") or host
        info.origin, info.origin_text = domain, f"{label}: auto_from with maildomain = {domain}"
    else:
        # msmtp 1.8 has no built-in sender: without from it refuses the message.
        info.refuses = (
            f"sends nothing: sendmail says 'account {chosen or 'default'} from {path}: "
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

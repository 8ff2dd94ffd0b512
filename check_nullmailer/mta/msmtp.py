"""msmtp: ``/etc/msmtprc`` (accounts, ``from``, ``auto_from``); no queue, no SMTP server."""

from __future__ import annotations

from check_nullmailer.host import domain_of, local_hostname, mailname, read_text, under, why
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
        info.notes.append(f"{path}: {why(exc)}")
        return info
    conf = accounts.get(chosen or "", accounts[""])
    host, where = local_hostname(root)
    label = f"msmtp account {chosen}" if chosen else "msmtp"
    sender = conf.get("from", "")
    if sender:
        domain = domain_of(sender)
        for pattern, value in (("%H", host), ("%C", host), ("%M", mailname(root) or host)):
            domain = domain.replace(pattern.lower(), value)
        info.origin, info.origin_text = (
            domain,
            f"{label}: from {sender}" + (f" = {domain}" if "%" in sender else ""),
        )
    elif conf.get("auto_from", "off") == "on":
        domain = conf.get("maildomain") or host
        info.origin, info.origin_text = domain, f"{label}: auto_from with maildomain = {domain}"
    else:
        info.origin, info.origin_text = host, f"{label}: no from, so the local host name ({where}) = {host}"
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

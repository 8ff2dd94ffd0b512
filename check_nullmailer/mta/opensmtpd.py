"""OpenSMTPD: ``smtpd.conf`` (listeners, relay actions, ``mail-from``) and its queue
(``smtpctl show queue``)."""

from __future__ import annotations

from check_nullmailer.access import unreadable
from check_nullmailer.host import (
    canonical_name,
    domain_of,
    is_loopback_word,
    local_hostname,
    read_text,
    under,
)
from check_nullmailer.mta.base import (
    MTA,
    RELAY_NETWORKS,
    RELAY_NONE,
    RELAY_OPEN,
    MTAInfo,
    optional_word,
)
from check_nullmailer.mta.opensmtpd_queue import parse_show_queue, read_queue

__all__ = ["OPENSMTPD", "parse_show_queue", "read_config", "read_queue"]

OPENSMTPD_CONFIGS = ("/etc/smtpd.conf", "/etc/smtpd/smtpd.conf", "/etc/mail/smtpd.conf")


def read_config(root: str = "/") -> MTAInfo:
    info = MTAInfo("opensmtpd")
    text = None
    for candidate in OPENSMTPD_CONFIGS:
        path = under(root, candidate)
        try:
            text = read_text(path)
            info.config = path
            break
        except OSError as exc:
            if not getattr(exc, "missing", isinstance(exc, FileNotFoundError)):
                # there but not readable whole: smtpd would read this one, not the next
                info.notes.append(unreadable(path, exc))
                info.unread.append(exc)
                return info
            continue
    if text is None:
        info.notes.append("no smtpd.conf found")
        return info
    listens: list[str] = []
    relay = RELAY_NONE
    relay_text = "no match rule relays for other hosts"
    relay_actions: set[str] = set()
    mail_from = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        words = line.split()
        if len(words) >= 3 and words[0] == "listen" and words[1] == "on":
            listens.append(words[2])
        if words[:1] == ["action"] and len(words) >= 3 and ("relay" in words[2:]):
            relay_actions.add(words[1].strip('"'))
            if "mail-from" in words:
                mail_from = (
                    words[words.index("mail-from") + 1].strip('"')
                    if words.index("mail-from") + 1 < len(words)
                    else None
                )
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] != ["match"] or "action" not in words:
            continue
        action = words[words.index("action") + 1].strip('"') if words.index("action") + 1 < len(words) else ""
        if action not in relay_actions or "auth" in words:
            continue
        if "from" in words and words.index("from") + 1 < len(words):
            source = words[words.index("from") + 1]
            if source == "any":
                relay, relay_text = RELAY_OPEN, f"match from any ... action {action} relays for everyone"
                break
            if source == "src":
                relay, relay_text = RELAY_NETWORKS, f"match from src ... action {action}"
    info.listens = bool(listens)
    info.listen_public = any(not is_loopback_word(w) for w in listens)
    info.listen_text = "listen on " + ", ".join(listens) if listens else "no listen directive"
    info.relay, info.relay_text = relay, relay_text
    if mail_from:
        info.origin, info.origin_text = domain_of(mail_from), f"OpenSMTPD mail-from {mail_from}"
    else:
        for candidate in ("/etc/mail/mailname", "/etc/mailname"):
            try:
                name = optional_word(info, under(root, candidate))
            except OSError:
                return info  # named: smtpd would read it, the sender cannot be told
            if name:
                info.origin, info.origin_text = name.lower(), f"OpenSMTPD {candidate} = {name}"
                break
        else:
            # Without a mailname file smtpd uses the canonical name of the host (the lab:
            # host name web1, /etc/hosts maps it to web1.example.test -> @web1.example.test).
            host, where = local_hostname(root)
            name = canonical_name(root, host)
            shown = f"{where} = {host}" + (f", canonical name {name}" if name != host else "")
            info.origin, info.origin_text = name.lower(), f"OpenSMTPD: no mailname, {shown}"
    return info


OPENSMTPD = MTA(
    name="opensmtpd",
    label="OpenSMTPD",
    markers=OPENSMTPD_CONFIGS,
    sendmail_hint="smtpctl",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root, src.deadline, src.sudo),
    fix="add mail-from @{alt} to the relay action (",
)

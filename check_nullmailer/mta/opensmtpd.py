"""OpenSMTPD: ``smtpd.conf`` (listeners, relay actions, ``mail-from``) and its queue
(``smtpctl show queue``)."""

from __future__ import annotations

import re
import subprocess
import time

from check_callout.kit.text import sanitize
from check_nullmailer.access import needs_sudo, sudo_refusal, unreadable
from check_nullmailer.host import (
    canonical_name,
    domain_of,
    find_tool,
    is_foreign_root,
    is_loopback_word,
    local_hostname,
    read_text,
    run_command,
    under,
)
from check_nullmailer.mta.base import (
    MAX_MESSAGES,
    MTA,
    RELAY_NETWORKS,
    RELAY_NONE,
    RELAY_OPEN,
    MTAInfo,
    QueuedMessage,
    QueueReport,
    QueueUnavailable,
    QueueUnreadable,
    optional_word,
    summarize,
)

OPENSMTPD_CONFIGS = ("/etc/smtpd.conf", "/etc/smtpd/smtpd.conf", "/etc/mail/smtpd.conf")
# what smtpctl says to a user who is not root (seen in the lab: see read_queue)
_NOT_ROOT = re.compile(r"permission denied|need root|not permitted|command failed", re.IGNORECASE)


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


MAX_LINES = MAX_MESSAGES * 4  # envelopes of smtpctl show queue read


def _envelope(line: str) -> tuple[list[str], float, int] | None:
    """One envelope line's fields, creation time and retry count; None if it is not one."""
    fields = line.split("|", 13)
    if len(fields) < 12 or not re.fullmatch(r"[0-9a-f]{16}", fields[0]):
        return None
    try:
        return fields, float(fields[7]), int(fields[10])
    except ValueError:
        return None


def parse_show_queue(text: str, now: float | None = None) -> list[QueuedMessage]:
    """Messages of ``smtpctl show queue``: one line per envelope (recipient),
    ``evpid|src|type|flags|sender|rcpt|dest|ctime|lasttry|lastbounce|retry|state|...|errorline``.

    The lab's line after a 451: ``3a21...|local|mta|auth|www-data@web1.example.test|
    someone@dest.test|someone@dest.test|1796179932|1796179932|0|1|pending|400|451 Could not
    complete sender verify callout``.  An envelope tried at least once (retry > 0) is
    deferred; its last error line is the reason.  Envelopes are grouped by message id
    (the first 8 hex digits of the envelope id)."""
    now = time.time() if now is None else now
    messages: dict[str, QueuedMessage] = {}
    for line in text.splitlines()[:MAX_LINES]:
        envelope = _envelope(line)
        if envelope is None:
            continue
        fields, created, retries = envelope
        msgid = fields[0][:8]
        msg = messages.setdefault(msgid, QueuedMessage(msgid, "incoming", fields[4], max(0.0, now - created)))
        if retries > 0:
            msg.queue = "deferred"
            if len(fields) > 13 and fields[13].strip():
                msg.reasons.append(fields[13].strip())
    return list(messages.values())


def read_queue(root: str = "/", deadline: float | None = None, sudo: bool = False) -> QueueReport:
    """``smtpctl show queue``: root's (smtpctl refuses it to other users)."""
    if is_foreign_root(root):
        raise QueueUnavailable("the OpenSMTPD queue under another root is not read")
    tool = find_tool(("smtpctl",))
    if not tool:
        raise QueueUnreadable("smtpctl not found")
    try:
        rc, out, err = run_command([tool, "show", "queue"], deadline, sudo)
    except subprocess.TimeoutExpired:
        raise QueueUnreadable("smtpctl show queue did not answer in time") from None
    except OSError as exc:
        raise QueueUnreadable(f"smtpctl: {exc.strerror or exc}") from None
    if rc != 0:
        if sudo_refusal(err) or _NOT_ROOT.search(err):
            raise QueueUnreadable(sanitize(needs_sudo(f"{tool} show queue", err, sudo), 300))
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {rc}"
        raise QueueUnreadable(f"smtpctl show queue: {sanitize(last, 160)}")
    lines = out.splitlines()
    odd = next((line for line in lines[:MAX_LINES] if line.strip() and _envelope(line) is None), None)
    if odd is not None:
        # a listing not understood is not an empty queue
        sample = sanitize(odd, 80)
        raise QueueUnreadable(f"smtpctl show queue printed a line in no known format: {sample!r}")
    report = summarize(parse_show_queue(out), "smtpctl show queue")
    if len(lines) > MAX_LINES:
        report.capped = True
        report.notes.append(
            f"smtpctl show queue: reading stopped after {MAX_LINES} envelopes (at least that many)"
        )
    return report


OPENSMTPD = MTA(
    name="opensmtpd",
    label="OpenSMTPD",
    markers=OPENSMTPD_CONFIGS,
    sendmail_hint="smtpctl",
    read_config=lambda src: read_config(src.root),
    read_queue=lambda src: read_queue(src.root, src.deadline, src.sudo),
    fix="add mail-from @{alt} to the relay action (",
)

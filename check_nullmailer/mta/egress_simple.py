"""How the one-file MTAs send: nullmailer (``remotes``, ``helohost``), ssmtp
(``mailhub``, ``hostname``), msmtp (``host``, ``port``, ``domain``, ``source_ip``), dma
(``SMARTHOST``, ``PORT``, ``MAILNAME``) and OpenSMTPD (``relay host``, ``helo``, ``src``).

What the real Debian 12 packages sent in the MTA lab, where it is not in their manuals:

- nullmailer 2.2 greets with ``me``, which Debian's build reads from ``/etc/mailname``
  (not ``/etc/nullmailer/me``), without ``defaultdomain``; without ``/etc/mailname`` it
  sends the literal ``HELO me`` (while its senders say ``@defaulthost``).
- msmtp 1.8 greets with ``localhost`` unless ``domain`` is set.
- dma 0.13 greets with its ``MAILNAME`` (the file's name or the literal), else the host
  name; ``MASQUERADE`` changes the sender only.
- ssmtp 2.64 greets with ``hostname=``, else the plain host name (``web1``).
- OpenSMTPD 6.8 greets with its mail name (``/etc/mailname``), else the host's
  canonical name, unless the relay action says ``helo``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from check_callout.kit.text import sanitize
from check_nullmailer.access import unreadable
from check_nullmailer.host import first_word, key_values, local_hostname, mailname, read_text, under
from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress, smarthost_of


def _nullmailer(info: Any, src: Any) -> Egress:
    from check_nullmailer.mta.nullmailer import DEBIAN_MARK

    egress = Egress("nullmailer")
    root = src.root
    base = under(root, "/etc/nullmailer")
    path = f"{base}/remotes"
    try:
        lines = [line.split("#", 1)[0].strip() for line in read_text(path).splitlines()]
        first = next((line for line in lines if line), "")
        if first:
            words = first.split()
            port = 628 if len(words) > 1 and words[1] == "qmqp" else 25
            match = re.search(r"--port[= ](\d+)", first)
            egress.route, egress.smarthost = SMARTHOST, words[0]
            egress.port = int(match.group(1)) if match else port
            egress.route_text = f"nullmailer remotes: {sanitize(first, 80)}"
            source = re.search(r"--source[= ](\S+)", first)
            if source:
                egress.bind = [source.group(1)]
                egress.bind_text = f"nullmailer remotes --source={source.group(1)}"
    except OSError as exc:
        egress.notes.append(f"the relay was not read: {unreadable(path, exc)}")
    for name in ("helohost",):
        try:
            helo = first_word(f"{base}/{name}")
        except OSError:
            helo = None
        if helo:
            egress.helo, egress.helo_text = helo, f"nullmailer helohost = {helo}"
            return egress
    if os.path.exists(under(root, DEBIAN_MARK)):
        # Debian's build reads "me" from /etc/mailname; without it the lab's nullmailer
        # sent the literal "HELO me".
        name = mailname(root)
        egress.helo = name or "me"
        egress.helo_text = (
            f"nullmailer me = /etc/mailname = {name}" if name else "nullmailer: no /etc/mailname, HELO me"
        )
    else:
        try:
            me = first_word(f"{base}/me")
        except OSError:
            me = None
        host, where = local_hostname(root)
        egress.helo = me or host
        egress.helo_text = f"nullmailer me = {me}" if me else f"nullmailer: no me, {where} = {host}"
    return egress


def _ssmtp(info: Any, src: Any) -> Egress:
    egress = Egress("ssmtp")
    path = under(src.root, "/etc/ssmtp/ssmtp.conf")
    try:
        conf = key_values(read_text(path))
    except OSError as exc:
        egress.notes.append(unreadable(path, exc))
        return egress
    hub = conf.get("mailhub", "mailhub")
    egress.route, (egress.smarthost, egress.port) = SMARTHOST, smarthost_of(hub)
    egress.route_text = f"ssmtp mailhub={sanitize(hub, 80)}"
    if "mailhub" not in conf:
        egress.route_text = "ssmtp: no mailhub, the host called mailhub"
    if conf.get("hostname"):
        egress.helo, egress.helo_text = conf["hostname"], f"ssmtp hostname={conf['hostname']}"
    else:
        host, where = local_hostname(src.root)
        egress.helo, egress.helo_text = host, f"ssmtp: no hostname, {where} = {host}"
    return egress


def _msmtp(info: Any, src: Any) -> Egress:
    from check_nullmailer.mta.msmtprc import MsmtprcError, sender_account

    egress = Egress("msmtp")
    path = under(src.root, "/etc/msmtprc")
    try:
        conf = sender_account(read_text(path), path).values
    except MsmtprcError as exc:
        egress.notes.append(f"msmtp refuses {path}: {exc}")
        return egress
    except OSError as exc:
        egress.notes.append(unreadable(path, exc))
        return egress
    label = "msmtp account default"
    if conf.get("host"):
        tls = conf.get("tls", "off") == "on" and conf.get("tls_starttls", "on") == "off"
        port = conf.get("port", "")
        egress.route, egress.smarthost = SMARTHOST, conf["host"]
        egress.port = int(port) if port.isdigit() else 465 if tls else 25
        egress.route_text = f"{label}: host {sanitize(conf['host'], 80)}" + (f", port {port}" if port else "")
    else:
        egress.notes.append(f"{label} has no host")
    domain = conf.get("domain", "")
    egress.helo = domain or "localhost"
    egress.helo_text = f"{label}: domain {domain}" if domain else f"{label}: no domain, msmtp sends localhost"
    if conf.get("source_ip"):
        egress.bind, egress.bind_text = [conf["source_ip"]], f"{label}: source_ip {conf['source_ip']}"
    return egress


def _dma(info: Any, src: Any) -> Egress:
    egress = Egress("dma")
    path = under(src.root, "/etc/dma/dma.conf")
    try:
        conf = key_values(read_text(path), sep=" ")
    except OSError as exc:
        egress.notes.append(unreadable(path, exc))
        return egress
    port = conf.get("port", "")
    if conf.get("smarthost"):
        egress.route, egress.smarthost = SMARTHOST, conf["smarthost"]
        egress.port = int(port) if port.isdigit() else 25
        shown = sanitize(conf["smarthost"], 80)
        egress.route_text = f"dma SMARTHOST {shown}" + (f", PORT {port}" if port else "")
    else:
        egress.route, egress.route_text = DIRECT, "dma: no SMARTHOST (the recipients' MX hosts)"
    setting = conf.get("mailname", "/etc/mailname")
    name = None
    if setting.startswith("/"):
        try:
            name = first_word(under(src.root, setting))
        except OSError:
            name = None
    else:
        name = setting
    if name:
        egress.helo = name
        egress.helo_text = f"dma MAILNAME {setting}" + (f" = {name}" if name != setting else "")
    else:
        host, where = local_hostname(src.root)
        egress.helo, egress.helo_text = host, f"dma: no MAILNAME, {where} = {host}"
    return egress


_HOST_URL = re.compile(r"^(?:smtps?|smtp\+tls|smtp\+notls|lmtp)://(?:[^@/]*@)?([^/]+)")


def _opensmtpd(info: Any, src: Any) -> Egress:
    from check_nullmailer.host import canonical_name

    egress = Egress("opensmtpd")
    path = info.config
    try:
        text = read_text(path) if path else ""
    except OSError as exc:
        egress.notes.append(unreadable(path, exc))
        return egress
    action: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] == ["action"] and "relay" in words[2:]:
            action = words
            break
    if not action:
        egress.notes.append("no relay action in smtpd.conf")
        return egress
    shown = sanitize(" ".join(action), 100)

    def option(name: str) -> str:
        return action[action.index(name) + 1].strip('"') if name in action[:-1] else ""

    host = option("host")
    if host:
        url = _HOST_URL.match(host)
        hostport = url.group(1) if url else host
        egress.route, (egress.smarthost, egress.port) = SMARTHOST, smarthost_of(hostport)
        if host.startswith("smtps://"):
            egress.port = egress.port if ":" in hostport else 465
    else:
        egress.route = DIRECT
    egress.route_text = f"OpenSMTPD {shown}"
    if option("helo"):
        egress.helo, egress.helo_text = option("helo"), f"OpenSMTPD relay action helo {option('helo')}"
    else:
        for candidate in ("/etc/mail/mailname", "/etc/mailname"):
            try:
                name = first_word(under(src.root, candidate))
            except OSError:
                continue
            if name:
                egress.helo, egress.helo_text = name, f"OpenSMTPD {candidate} = {name}"
                break
        else:
            host_name, where = local_hostname(src.root)
            name = canonical_name(src.root, host_name)
            egress.helo = name
            egress.helo_text = f"OpenSMTPD: no mailname, {where} = {host_name}, canonical name {name}"
    if option("src"):
        egress.bind, egress.bind_text = [option("src")], f"OpenSMTPD relay action src {option('src')}"
    return egress


_BY_MTA = {"nullmailer": _nullmailer, "ssmtp": _ssmtp, "msmtp": _msmtp, "dma": _dma, "opensmtpd": _opensmtpd}


def read(info: Any, src: Any) -> Egress:
    egress = _BY_MTA[info.mta](info, src)
    egress.helo = egress.helo.rstrip(".")
    return egress

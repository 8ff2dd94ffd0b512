"""Postfix: ``postconf`` (``-c DIR``) when available, else ``main.cf`` parsed here;
the queue through ``postqueue -j``.

Only ``postconf`` knows the compiled-in defaults and the expansion rules, so it is asked
first; the small parser of ``main.cf`` is the fallback.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

from check_callout.kit.files import CouldNotRead
from check_callout.kit.text import sanitize
from check_nullmailer.access import unreadable
from check_nullmailer.host import (
    find_tool,
    first_word,
    is_loopback_word,
    local_hostname,
    read_text,
    run_command,
    under,
)
from check_nullmailer.mta.base import (
    MTA,
    RELAY_NONE,
    MTAInfo,
    QueueReport,
    Sources,
)
from check_nullmailer.mta.postfix_expand import expand_checked, expand_postfix
from check_nullmailer.mta.postfix_queue import read_queue

POSTFIX_PARAMS = (
    "myorigin",
    "myhostname",
    "mydomain",
    "inet_interfaces",
    "mynetworks",
    "mynetworks_style",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "masquerade_domains",
    "smtpd_restriction_classes",
    # how mail leaves (check_nullmailer.mta.egress_postfix)
    "smtp_helo_name",
    "relayhost",
    "default_transport",
    "transport_maps",
    "sender_dependent_relayhost_maps",
    "sender_dependent_default_transport_maps",
    "smtp_bind_address",
    "smtp_bind_address6",
    "inet_protocols",
)
RELAY_PARAMS = ("mynetworks", "smtpd_relay_restrictions", "smtpd_recipient_restrictions")
POSTCONF_RESERVE = 0.4  # of the configuration's time, kept from postconf for the fallback


def parse_main_cf(text: str) -> dict[str, str]:
    """``name = value`` pairs of main.cf, joining continuation lines."""
    params: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and name is not None:
            params[name] += " " + line.strip()
            continue
        key, sep, value = line.partition("=")
        if not sep:
            name = None
            continue
        name = key.strip()
        params[name] = value.strip()
    return params


def parse_postconf(out: str) -> dict[str, str]:
    """``name = value`` lines of postconf's output (``name =``: an empty value)."""
    values: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            values[key.strip()] = value.strip()
        elif line.endswith(" ="):
            values[line[:-2].strip()] = ""
    return values


def _postfix_defaults(root: str, params: dict[str, str]) -> dict[str, str]:
    host, _ = local_hostname(root)
    defaults = {
        "myhostname": host if "." in host else f"{host}.localdomain",
        "myorigin": "$myhostname",
        "inet_interfaces": "all",
        "smtpd_recipient_restrictions": "",
        "smtp_helo_name": "$myhostname",
        "default_transport": "smtp",
        "inet_protocols": "all",
    }
    try:
        hostname = expand_postfix(params.get("myhostname", defaults["myhostname"]), {**defaults, **params})
    except CouldNotRead:
        hostname = ""  # named when myhostname itself is expanded (read_config)
    defaults["mydomain"] = hostname.partition(".")[2] or "localdomain"
    level = params.get("compatibility_level", "0").split(".")[0]
    modern = level.isdigit() and int(level) >= 2
    defaults["mynetworks_style"] = "host" if modern else "subnet"
    defaults["smtpd_relay_restrictions"] = (
        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
        if level.isdigit() and int(level) >= 1
        else ""
    )
    return defaults


def _postconf_values(tool: str, confdir: str, expand: bool, deadline: float | None) -> dict[str, str]:
    argv = [tool, "-c", confdir]
    if expand:
        argv.append("-x")
    rc, out, err = run_command(argv + list(POSTFIX_PARAMS), deadline)
    values = parse_postconf(out)
    if rc != 0 and not values:
        raise OSError(0, sanitize(err.strip().splitlines()[-1] if err.strip() else f"exit {rc}", 160))
    return values


def read_config(
    root: str = "/", confdir: str | None = None, deadline: float | None = None, postconf: str | None = "auto"
) -> MTAInfo:
    """Postfix: ``postconf`` (``-c DIR``) when available, else main.cf parsed here.  A
    parameter that could not be expanded (too deep, too large) leaves what depends on it
    "could not read": the origin, the relay verdict, the listening addresses."""
    from check_nullmailer.mta.base import RELAY_NONE, RELAY_UNKNOWN

    info = _read_config(root, confdir, deadline, postconf)
    failed = {
        exc.what[len("main.cf ") :]: exc
        for exc in info.unread
        if str(getattr(exc, "what", "")).startswith("main.cf ")
    }
    relay = [name for name in RELAY_PARAMS if name in failed]
    if relay and info.relay == RELAY_NONE:  # an open service found otherwise stays open
        info.relay = RELAY_UNKNOWN
        info.relay_text = f"relay settings not judged: {failed[relay[0]]}"
    if "inet_interfaces" in failed:
        info.listen_text = f"listening addresses not known: {failed['inet_interfaces']}"
    return info


def _read_config(root: str, confdir: str | None, deadline: float | None, postconf: str | None) -> MTAInfo:
    info = MTAInfo("postfix")
    confdir = confdir or under(root, "/etc/postfix")
    info.config = confdir
    tool = find_tool(("postconf",)) if postconf == "auto" else postconf
    main_cf = os.path.join(confdir, "main.cf")
    if not os.access(main_cf, os.R_OK):
        # postconf would exit fatally, after the one-second pause of every Postfix fatal error
        reason = "not found" if not os.path.exists(main_cf) else "not readable"
        info.notes.append(f"{main_cf}: {reason}")
        return info
    raw: dict[str, str] | None = None
    expanded: dict[str, str] | None = None
    if tool:
        # postconf may spend minutes on an expansion bomb: it gets most of the time, the
        # rest is kept for reading main.cf here when it does not answer.
        asked = (
            None if deadline is None else deadline - POSTCONF_RESERVE * max(0.0, deadline - time.monotonic())
        )
        try:
            raw = _postconf_values(tool, confdir, False, asked)
            try:
                expanded = _postconf_values(tool, confdir, True, asked)
            except (OSError, subprocess.SubprocessError):
                expanded = None  # postconf older than 2.9 has no -x
        except (OSError, subprocess.SubprocessError) as exc:
            info.notes.append(f"postconf failed ({sanitize(str(exc), 120)}); main.cf parsed instead")
            raw = None
    if raw is None:
        try:
            params = parse_main_cf(read_text(os.path.join(confdir, "main.cf")))
        except OSError as exc:
            info.notes.append(unreadable(os.path.join(confdir, "main.cf"), exc))
            info.unread.append(exc)
            return info
        raw = {**_postfix_defaults(root, params), **params}
    if expanded is None:
        expanded = _expand_all(raw, info)
    info.values = {**expanded, **{f"raw:{key}": value for key, value in raw.items()}}

    # envelope origin
    shown = raw.get("myorigin", "$myhostname")
    value = expanded.get("myorigin", "")
    text = f"Postfix myorigin = {shown}"
    if value.startswith("/"):
        try:
            from_file = first_word(under(root, value), deadline=deadline)
        except OSError as exc:
            if not os.path.exists(under(root, value)):  # sendmail exits fatally
                info.refuses = (
                    f"sends nothing: myorigin = {shown}, and sendmail says 'fatal: {value}: "
                    "cannot open file: No such file or directory'; write this host's mail domain "
                    f"into {value} or set myorigin = $mydomain"
                )
            else:
                info.notes.append(f"myorigin names a file: {unreadable(value, exc)}")
                info.unread.append(exc)
            from_file = None
        if from_file:
            text += f" = {from_file}" if shown == value else f" = {value} = {from_file}"
            value = from_file
        else:
            value = ""
    elif value and value != shown:
        text += f" = {value}"
    if value:
        info.origin = value.rstrip(".").lower()
        info.origin_text = text
    masq = expanded.get("masquerade_domains", "").strip()
    if masq:
        info.notes.append(f"masquerade_domains = {sanitize(masq, 80)} may rewrite senders (not evaluated)")

    _services(info, confdir, raw, expanded, tool, deadline)
    return info


def _services(
    info: MTAInfo, confdir: str, raw: dict[str, str], expanded: dict[str, str], tool: str | None,
    deadline: float | None,
) -> None:  # fmt: skip
    """Exposure and relaying, service by service (master.cf over main.cf)."""
    from check_callout.kit.files import CouldNotRead
    from check_nullmailer.mta.postfix_master import read_master_cf
    from check_nullmailer.mta.postfix_relay import relay_verdict, worst
    from check_nullmailer.mta.postfix_services import service_infos

    path = os.path.join(confdir, "master.cf")
    try:
        master = read_master_cf(path, deadline)
    except CouldNotRead as exc:
        info.services_unread = f"could not read {exc.what}: {exc.why}"
        info.notes.append(f"{info.services_unread}: cannot tell which services listen and how they relay")
        info.unread.append(exc)
        master = None
    if master is None:  # main.cf alone: what the stock smtp service would do
        interfaces = expanded.get("inet_interfaces", "all")
        words = [w for w in re.split(r"[\s,]+", interfaces) if w]
        info.listen_public = not all(is_loopback_word(w) for w in words) if words else True
        info.listen_text = f"inet_interfaces = {sanitize(interfaces, 80)}"
        verdict = relay_verdict(expanded)
        info.relay, info.relay_text = verdict.state, verdict.text
        return
    info.services = service_infos(master, raw, expanded, tool=tool, confdir=confdir, deadline=deadline,
                                  notes=info.notes)  # fmt: skip
    if not info.services:
        info.listens = False
        info.listen_public = False
        info.listen_text = "master.cf has no smtpd inet service"
        info.relay = RELAY_NONE
        info.relay_text = "cannot relay (no SMTP service)"
        return
    info.listens = True
    public = [s for s in info.services if s.public]
    info.listen_public = bool(public)
    interfaces = expanded.get("inet_interfaces", "all")
    names = ", ".join(s.name.split(" (", 1)[0] for s in info.services[:4])
    info.listen_text = f"inet_interfaces = {sanitize(interfaces, 80)} ({sanitize(names, 120)} in master.cf)"
    judged = public or info.services
    info.relay = worst([s.relay for s in judged])
    chosen = next(s for s in judged if s.relay == info.relay)
    info.relay_text = chosen.relay_text
    if len(info.services) > 1:
        info.relay_text += f" (service {chosen.name})"


def _expand_all(raw: dict[str, str], info: MTAInfo) -> dict[str, str]:
    """Every parameter expanded as Postfix would; one that cannot be (too deep, too
    large) is left out, and named when the audit uses it."""
    expanded: dict[str, str] = {}
    for name in raw:
        try:
            expanded[name] = expand_checked(name, raw)
        except CouldNotRead as exc:
            if name in POSTFIX_PARAMS:
                info.notes.append(f"cannot use {exc}")
                info.unread.append(exc)
    return expanded


def _config(src: Sources) -> MTAInfo:
    return read_config(src.root, src.postfix_config, src.deadline)


def _queue(src: Sources) -> QueueReport:
    confdir = src.postfix_config or (None if src.root in ("", "/") else under(src.root, "/etc/postfix"))
    return read_queue(confdir, src.deadline)


POSTFIX = MTA(
    name="postfix",
    label="Postfix",
    markers=("/etc/postfix/main.cf",),
    sendmail_hint="postfix",
    read_config=_config,
    read_queue=_queue,
    fix="set myorigin = $mydomain ({alt}",
    requeue="queued mail keeps its old envelope sender: after the fix, rewrite it with "
    "masquerade_domains = $mydomain and requeue it (postsuper -r ALL), then postqueue -f",
)

"""The smtpd services of a Postfix, each with its effective settings.

Every ``inet`` service of master.cf whose command is ``smtpd`` (or ``postscreen``, which
hands its clients to the ``smtpd`` pass service) is one SMTP server:

- where it listens: the host part of its name (``0.0.0.0:smtp``, ``[::]:smtp``,
  ``192.0.2.1:2525``) whatever ``inet_interfaces`` says (master(5); seen on the real
  Postfix: ``0.0.0.0:smtp`` listens on every address with ``inet_interfaces =
  loopback-only``), else ``inet_interfaces`` of main.cf (an ``-o`` cannot move it);
- how it relays: main.cf with the service's ``-o`` overrides applied on top, then
  expanded (``-o mynetworks=$wide``): ``postconf -x -o name=value`` when postconf is
  there, the same done here otherwise.
"""

from __future__ import annotations

import re
import subprocess

from check_callout.kit.files import CouldNotRead
from check_callout.kit.text import sanitize
from check_nullmailer.host import is_loopback_word, run_command
from check_nullmailer.mta.base import RELAY_UNKNOWN, ServiceInfo
from check_nullmailer.mta.postfix import parse_postconf
from check_nullmailer.mta.postfix_expand import expand_postfix as expand
from check_nullmailer.mta.postfix_master import MasterService
from check_nullmailer.mta.postfix_relay import RelayVerdict, relay_verdict

RELAY_PARAMS = (
    "mynetworks",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_restriction_classes",
)
MAX_POSTCONF = 8  # postconf runs for services with overrides; the rest are expanded here


def smtpd_services(services: list[MasterService]) -> list[MasterService]:
    """The inet services that run an SMTP server."""
    return [s for s in services if s.type == "inet" and s.command in ("smtpd", "postscreen")]


def _overrides(service: MasterService, services: list[MasterService]) -> tuple[tuple[str, str], ...]:
    if service.command != "postscreen":
        return service.overrides
    # postscreen passes its clients to the pass service named smtpd: its -o apply
    passed = next((s for s in services if s.type == "pass" and s.name == "smtpd"), None)
    return passed.overrides if passed is not None else ()


def _postconf_run(
    tool: str, argv: list[str], names: list[str], deadline: float | None
) -> dict[str, str] | None:
    try:
        rc, out, _ = run_command([tool, *argv, *names], deadline)
    except (OSError, subprocess.SubprocessError):
        return None
    values = parse_postconf(out)
    return values if rc == 0 and values else None


def _postconf(
    tool: str, confdir: str, overrides: tuple[tuple[str, str], ...], deadline: float | None
) -> dict[str, str] | None:
    """The relay settings as postconf expands them with the overrides on top, with the
    lists of the restriction classes they name."""
    argv = ["-c", confdir, "-x"]
    for name, value in overrides:
        argv += ["-o", f"{name}={value}"]
    values = _postconf_run(tool, argv, list(RELAY_PARAMS), deadline)
    if values is None:
        return None
    classes = [w for w in re.split(r"[\s,]+", values.get("smtpd_restriction_classes", "")) if w][:50]
    if classes:
        lists = _postconf_run(tool, argv, classes, deadline)
        if lists is None:
            return None
        values.update(lists)
    return values


def service_infos(
    master: list[MasterService],
    raw: dict[str, str],
    expanded: dict[str, str],
    *,
    tool: str | None = None,
    confdir: str = "",
    deadline: float | None = None,
    notes: list[str] | None = None,
) -> list[ServiceInfo]:
    """One :class:`ServiceInfo` per smtpd service: where it listens and how it relays.

    ``raw`` are main.cf's values as written (defaults included), ``expanded`` the same
    expanded; ``tool`` is postconf (None: everything is done here)."""
    interfaces = expanded.get("inet_interfaces", "all")
    interface_words = tuple(w.strip("[]") for w in re.split(r"[\s,]+", interfaces) if w) or ("all",)
    found: list[ServiceInfo] = []
    runs = 0
    for service in smtpd_services(master):
        overrides = _overrides(service, master)
        settings: dict[str, str] | None = None
        classes = expanded.get("smtpd_restriction_classes", "").strip()
        if not overrides and not classes:
            settings = expanded
        elif tool and runs < MAX_POSTCONF:
            runs += 1
            settings = _postconf(tool, confdir, overrides, deadline)
        try:
            if settings is None:
                merged = {**raw, **dict(overrides)}
                settings = {name: expand(merged.get(name, ""), merged) for name in RELAY_PARAMS}
                for name in re.split(r"[\s,]+", settings.get("smtpd_restriction_classes", "")):
                    if name:
                        settings[name] = expand(merged.get(name, ""), merged)
            verdict = relay_verdict(settings)
        except CouldNotRead as exc:  # an override that expands past the bound: not judged
            verdict = RelayVerdict(RELAY_UNKNOWN, f"relay settings not judged: {exc}")
        host = service.host
        addresses = (host,) if host is not None else interface_words
        where = f"{service.name} (master.cf line {service.line}"
        shown = service.shown_overrides() if service.command != "postscreen" else "postscreen"
        where += f", {sanitize(shown, 120)})" if shown else ")"
        if service.port is None and notes is not None:
            notes.append(f"service {sanitize(service.name, 60)}: port unknown on this host")
        found.append(
            ServiceInfo(
                name=where,
                port=service.port,
                addresses=addresses,
                public=not all(is_loopback_word(word) for word in addresses),
                relay=verdict.state,
                relay_text=verdict.text,
                fatal=verdict.fatal,
                plain=host is None and not overrides and service.command == "smtpd",
            )
        )
    return found

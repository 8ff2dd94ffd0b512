"""How Exim's mail leaves: the first router that takes a remote domain (a
``manualroute`` with a ``route_list`` is a smarthost, ``dnslookup`` is direct
delivery), its SMTP transport's ``helo_data`` (default ``$primary_hostname``) and
``interface``.

Asked of Exim itself (``exim -bP routers transports``, with ``-C FILE`` when given), so
Debian's generated configuration, its macros and Exim's defaults are what Exim uses.
The lab's Exim 4.96 (Debian satellite: router ``smarthost``, transport
``remote_smtp_smarthost``) sent ``EHLO`` with ``primary_hostname``: the host's
canonical name (``web1`` when ``/etc/hosts`` does not name it otherwise).
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

from check_callout.kit.text import sanitize
from check_nullmailer.host import run_command
from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress, smarthost_of

Section = dict[str, str]


def parse_sections(text: str) -> tuple[list[tuple[str, Section]], dict[str, Section]]:
    """``exim -bP routers transports``: routers in order, and transports by name."""
    routers: list[tuple[str, Section]] = []
    transports: dict[str, Section] = {}
    current: Section | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.endswith(" router:") or line.endswith(" transport:"):
            name, kind = line[:-1].rsplit(" ", 1)
            current = {}
            if kind == "router":
                routers.append((name, current))
            else:
                transports[name] = current
            continue
        if current is None or not line:
            continue
        if line.endswith(" ="):  # an option with an empty value
            current[line[:-2].strip()] = ""
            continue
        key, sep, value = line.partition(" = ")
        current[key.strip()] = value.strip() if sep else "true"
    return routers, transports


def _exim_items(value: str) -> list[str]:
    """An Exim list (``:`` separated, ``::`` for a literal colon)."""
    value = value.strip()
    if value.startswith("<") and len(value) > 1:
        return [item.strip() for item in value[2:].split(value[1]) if item.strip()]
    return [item.strip().replace("\0", ":") for item in value.replace("::", "\0").split(":") if item.strip()]


def takes_remote(router: Section) -> bool:
    """A router that would route an ordinary remote domain: no ``domains`` condition,
    or one that starts by excluding the local domains (``! +local_domains``)."""
    domains = router.get("domains", "").strip()
    if router.get("condition") or router.get("local_parts") or router.get("senders"):
        return False
    return not domains or domains.startswith("!")


def route_hosts(route_list: str) -> str:
    """The host list of a ``route_list`` rule for every domain: ``* HOSTS [options]``."""
    for rule in route_list.split(";"):
        words = rule.split()
        if len(words) >= 2 and words[0] in ("*", "!+local_domains", "! +local_domains"):
            return words[1]
    return ""


def read(info: Any, src: Any) -> Egress:
    egress = Egress("exim")
    tool = info.tool
    if not tool:
        egress.notes.append("how Exim sends was not read: its binary was not asked")
        return egress
    argv = [tool] + (["-C", src.exim_config] if src.exim_config else []) + ["-bP", "routers", "transports"]
    try:
        rc, out, err = run_command(argv, src.deadline)
    except (OSError, subprocess.SubprocessError) as exc:
        said = sanitize(str(exc), 120)
        egress.notes.append(f"{os.path.basename(tool)} -bP routers transports failed ({said})")
        return egress
    routers, transports = parse_sections(out)
    if rc != 0 or not routers:
        said = sanitize((err or out).strip().splitlines()[-1] if (err or out).strip() else f"exit {rc}", 120)
        egress.notes.append(f"{os.path.basename(tool)} -bP routers transports: {said}")
        return egress
    smtp_drivers = ("manualroute", "dnslookup")
    chosen = next(
        ((name, r) for name, r in routers if r.get("driver") in smtp_drivers and takes_remote(r)), None
    )
    if chosen is None:
        egress.notes.append("no router routes remote domains by SMTP")
        return egress
    name, router = chosen
    transport = transports.get(router.get("transport", ""), {})
    if router.get("driver") == "dnslookup":
        egress.route, egress.route_text = DIRECT, f"Exim router {name} (dnslookup: the recipients' MX hosts)"
    else:
        hosts = _exim_items(route_hosts(router.get("route_list", "")) or router.get("route_data", ""))
        if hosts and "$" not in hosts[0]:
            port = transport.get("port", "smtp")
            egress.smarthost, egress.port = smarthost_of(hosts[0], int(port) if port.isdigit() else 25)
            egress.route = SMARTHOST
            rule = sanitize(router.get("route_list", ""), 80)
            egress.route_text = f"Exim router {name}: route_list = {rule}"
        else:
            egress.route_text = f"Exim router {name}: its hosts are an expansion (not evaluated)"
    primary = info.values.get("primary_hostname", "")
    helo = transport.get("helo_data", "$primary_hostname")
    value = helo.replace("${primary_hostname}", primary).replace("$primary_hostname", primary)
    egress.helo_text = f"Exim transport {router.get('transport', '?')}: helo_data = {sanitize(helo, 80)}"
    if "$" in value:
        egress.helo_text += " (an expansion Exim makes per delivery)"
    else:
        egress.helo = value.rstrip(".")
        if value != helo:
            egress.helo_text += f" = {sanitize(value, 80)}"
    interface = transport.get("interface", "")
    if interface and "$" not in interface:
        egress.bind = _exim_items(interface)[:2]
        egress.bind_text = f"Exim transport interface = {sanitize(interface, 80)}"
    return egress

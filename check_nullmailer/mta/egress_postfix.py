"""How Postfix's mail leaves: ``relayhost`` (or a ``default_transport`` with a
nexthop), ``smtp_helo_name`` and ``smtp_bind_address``/``smtp_bind_address6``.

The values come from ``postconf -x`` through :mod:`check_nullmailer.mta.postfix`
(``MTAInfo.values``), so Postfix's own defaults and expansion apply: ``smtp_helo_name``
is ``$myhostname`` unless set, which the lab's Postfix 3.7 sent as given.
"""

from __future__ import annotations

from typing import Any

from check_callout.kit.text import sanitize
from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress, smarthost_of

TABLES = ("transport_maps", "sender_dependent_relayhost_maps", "sender_dependent_default_transport_maps")


def _words(value: str) -> list[str]:
    return [w for w in value.replace(",", " ").split() if w]


def nexthop(value: str) -> tuple[str, int] | None:
    """The first destination of a ``relayhost`` or transport nexthop: ``[host]:port``
    (no MX lookup) or ``host:port`` (Postfix looks up the host's MX first)."""
    words = _words(value)
    if not words:
        return None
    return smarthost_of(words[0])


def read(info: Any, src: Any) -> Egress:
    values: dict[str, str] = info.values
    egress = Egress("postfix")
    if not values:
        egress.notes.append("the Postfix configuration was not read")
        return egress
    raw = {key[4:]: value for key, value in values.items() if key.startswith("raw:")}

    relayhost = values.get("relayhost", "").strip()
    transport = values.get("default_transport", "smtp").strip() or "smtp"
    name, _, hop = transport.partition(":")
    if relayhost:
        found = nexthop(relayhost)
        if found:
            egress.route, (egress.smarthost, egress.port) = SMARTHOST, found
            egress.route_text = f"Postfix relayhost = {sanitize(relayhost, 80)}"
    elif hop and name in ("smtp", "lmtp", "relay"):
        found = nexthop(hop)
        if found:
            egress.route, (egress.smarthost, egress.port) = SMARTHOST, found
            egress.route_text = f"Postfix default_transport = {sanitize(transport, 80)}"
    elif name in ("smtp", "relay"):
        egress.route = DIRECT
        egress.route_text = "Postfix: relayhost is empty (mail goes to the recipients' MX hosts)"
    else:
        egress.route_text = f"Postfix default_transport = {sanitize(transport, 80)} (not an SMTP client)"
    for table in TABLES:
        if values.get(table, "").strip():
            said = sanitize(values[table], 80)
            egress.notes.append(f"{table} = {said} may route some mail elsewhere (not evaluated)")

    helo = values.get("smtp_helo_name", "").strip()
    shown = raw.get("smtp_helo_name", "$myhostname")
    egress.helo = helo.rstrip(".")
    egress.helo_text = f"Postfix smtp_helo_name = {sanitize(shown, 80)}" + (
        f" = {sanitize(helo, 80)}" if helo and helo != shown else ""
    )
    if "$" in helo:
        egress.helo, egress.helo_text = "", egress.helo_text + " (an expansion Postfix makes per delivery)"

    protocols = values.get("inet_protocols", "all").replace(",", " ").split()
    if "all" not in protocols:
        egress.families = tuple(f for f, word in ((6, "ipv6"), (4, "ipv4")) if word in protocols) or (6, 4)
    binds = [values.get("smtp_bind_address", "").strip(), values.get("smtp_bind_address6", "").strip()]
    egress.bind = [address for address in binds if address]
    if egress.bind:
        names = ("smtp_bind_address", "smtp_bind_address6")
        egress.bind_text = ", ".join(f"Postfix {n} = {a}" for n, a in zip(names, binds) if a)
    return egress

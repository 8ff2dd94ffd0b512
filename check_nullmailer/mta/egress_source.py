"""The addresses a null mailer's mail leaves from, asked of the kernel without traffic.

A configured bind address (Postfix ``smtp_bind_address``, Exim ``interface``, msmtp
``source_ip``, ...) is the source.  Otherwise the kernel's route decides: a UDP socket
connected to the destination (the smarthost's addresses, or for direct delivery a
documentation address, 198.51.100.1 and 2001:db8::1, which takes the default route as
any recipient's MX would) names the source address it would use; connecting a UDP
socket sends nothing.  ``--client-ip`` states the public address instead (behind NAT).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress

# where a directly delivered message goes: anywhere on the Internet, by the default route
INTERNET = {4: "198.51.100.1", 6: "2001:db8::1"}
NAME_WAIT = 1.0  # seconds for the smarthost's name (the system's resolver, as the MTA's)


def route_source(address: str, port: int = 25) -> str:
    """The source address the kernel picks for ``address``; raises OSError (no route)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((address, port))
        return str(sock.getsockname()[0])


@dataclass(frozen=True)
class Lookup:
    """Where the smarthost's name is looked up: the plugin's ``--nameserver`` when given,
    else the system's resolver (``/etc/hosts``, then DNS), as the MTA looks it up; not at
    all for a configuration under a foreign ``--root`` (its resolver is not this host's)."""

    nameserver: str | None = None
    dns_port: int = 53
    root: str = "/"
    deadline: float | None = None


def smarthost_addresses(host: str, families: tuple[int, ...], lookup: Lookup) -> tuple[list[str], str]:
    """The smarthost's addresses, and why there are none; bounded in time."""
    from check_callout.address import is_ip

    if is_ip(host):
        return [host], ""
    left = (lookup.deadline - time.monotonic()) if lookup.deadline is not None else NAME_WAIT
    if lookup.nameserver:
        from check_callout.net.dns import DNSFailure, Resolver

        resolver = Resolver(
            lookup.nameserver, lookup.dns_port, families, timeout=max(0.1, min(NAME_WAIT, left))
        )
        try:
            return resolver.addresses(host, time.monotonic() + max(0.0, min(NAME_WAIT, left)))
        except DNSFailure as exc:
            return [], str(exc)
    from check_nullmailer.host import is_foreign_root

    if is_foreign_root(lookup.root):
        return [], "not looked up for a configuration under --root"
    from check_callout.kit.parallel import call_within

    def resolve() -> list[str]:
        found = socket.getaddrinfo(host, 25, 0, socket.SOCK_STREAM)
        keep = {{6: socket.AF_INET6, 4: socket.AF_INET}[f] for f in families}
        return list(dict.fromkeys(str(item[4][0]) for item in found if item[0] in keep))

    empty: list[str] = []
    found = call_within(resolve, max(0.0, min(NAME_WAIT, left)), empty) or empty
    return found, "" if found else "the system's resolver found no address in time"


def fill_sources(egress: Egress, client_ips: tuple[str, ...] = (), lookup: Lookup | None = None) -> Egress:
    """Set ``egress.sources`` (and how they were found), and the smarthost's addresses;
    what failed is a note."""
    lookup = lookup or Lookup()
    if egress.route == SMARTHOST:
        egress.relay_addresses, why = smarthost_addresses(egress.smarthost, egress.families, lookup)
        if not egress.relay_addresses:
            egress.notes.append(f"the smarthost {egress.smarthost} has no address: {why}")
    if client_ips:
        egress.sources = list(client_ips)
        egress.source_text = "stated with --client-ip"
        return egress
    if egress.bind:
        egress.sources = list(egress.bind)
        egress.source_text = egress.bind_text
        return egress
    if egress.route == SMARTHOST:
        targets = egress.relay_addresses
        toward = f"the smarthost {egress.smarthost}"
    elif egress.route == DIRECT:
        targets = [INTERNET[f] for f in egress.families]
        toward = "the Internet (the default route)"
    else:
        return egress
    found: list[str] = []
    for target in targets:
        try:
            source = route_source(target, egress.port)
        except OSError as exc:
            version = "IPv6" if ":" in target else "IPv4"
            if egress.route == DIRECT:
                egress.notes.append(f"no {version} route to the Internet ({exc.strerror or exc})")
            else:
                egress.notes.append(f"no route to {target} ({exc.strerror or exc})")
            continue
        if source not in found:
            found.append(source)
    egress.sources = found
    if found:
        egress.source_text = f"the kernel's route to {toward}"
    return egress


def non_public(egress: Egress) -> list[str]:
    """The sources a receiver on the Internet cannot see as the client (loopback,
    private, CGNAT): behind NAT the public address is another."""
    from check_callout.address import is_non_public

    return [address for address in egress.sources if is_non_public(address)]

"""Routes: the hosts a receiver's callout would try for a domain, in order, and how the
lookup ended (a route status).  Built by :mod:`check_callout.net.dns` from DNS, or
here without dnspython: an IP literal, a single-label domain, a host from the system's
resolver (``-H`` without ``--nameserver``).
"""

from __future__ import annotations

import time

from check_callout.address import is_non_public
from check_callout.kit.parallel import run_parallel
from check_callout.kit.text import sanitize

# Route statuses
MX = "mx"  # MX records found
IMPLICIT = "implicit"  # no MX, the domain's own A/AAAA
EXPLICIT = "explicit"  # the user named the host (-H)
NULL_MX = "null_mx"  # MX 0 . : the domain accepts no mail
NXDOMAIN = "nxdomain"
NO_ADDRESS = "no_address"  # neither MX nor A/AAAA
DNS_ERROR = "dns_error"  # the DNS could not answer: cannot tell
SINGLE_LABEL = "single_label"  # localhost, intranet: no remote receiver can route to it


def single_label_route(domain: str) -> Route:
    """A domain of one label (``localhost``, ``intranet``): asked of no DNS, since a
    receiver elsewhere either fails to route it or routes it to itself."""
    # a receiver cannot route it, or takes it as its own: never the sender's own mailbox
    detail = f"{domain} has a single label: such a sender cannot pass any remote callout"
    return Route(domain, SINGLE_LABEL, detail=detail)


class MXHost:
    """One MX host with its addresses in the order a receiver tries them."""

    def __init__(
        self,
        name: str,
        preference: int,
        addresses: list[str] | None = None,
        implicit: bool = False,
        note: str = "",
        lookup_error: str = "",
    ) -> None:
        self.name = name
        self.preference = preference
        self.addresses = addresses if addresses is not None else []
        self.implicit = implicit
        self.note = note
        self.lookup_error = lookup_error

    def __repr__(self) -> str:
        return f"MXHost({self.name!r}, {self.preference}, {self.addresses!r})"

    @property
    def private_addresses(self) -> list[str]:
        return [a for a in self.addresses if is_non_public(a)]


class Route:
    """The hosts a receiver would try for ``domain``, in order, and how DNS answered
    (``status``: one of the route statuses above)."""

    def __init__(
        self,
        domain: str,
        status: str,
        hosts: list[MXHost] | None = None,
        detail: str = "",
        skipped_hosts: int = 0,
        lookup_time: float = 0.0,
    ) -> None:
        self.domain = domain
        self.status = status
        self.hosts = hosts if hosts is not None else []
        self.detail = detail
        self.skipped_hosts = skipped_hosts
        self.lookup_time = lookup_time

    def __repr__(self) -> str:
        return f"Route({self.domain!r}, {self.status!r}, {self.hosts!r})"


def system_host_route(host: str, families: tuple[int, ...], deadline: float) -> Route:
    """A route to one named host (``-H``) through the system's resolver (``getaddrinfo``:
    ``/etc/hosts`` first, as nsswitch says), for when no ``--nameserver`` is given.

    The lookup runs in a thread abandoned at the deadline, so a hung resolver cannot
    hold the run.  Addresses come IPv6 first, as Exim orders one host's addresses.
    """
    import socket

    start = time.monotonic()

    def lookup() -> list[tuple[int, str]]:
        infos = socket.getaddrinfo(host, 25, socket.AF_UNSPEC, socket.SOCK_STREAM)
        return [(6 if info[0] == socket.AF_INET6 else 4, str(info[4][0])) for info in infos]

    result = run_parallel({"a": lookup}, deadline)["a"]
    took = time.monotonic() - start
    what = f"host {host}"
    if isinstance(result, socket.gaierror):
        detail = sanitize(str(result.strerror or result), 120)
        if result.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return Route(host, NXDOMAIN, detail=f"{what} does not resolve ({detail})", lookup_time=took)
        return Route(host, DNS_ERROR, detail=f"cannot tell: {what}: {detail}", lookup_time=took)
    if isinstance(result, BaseException):
        why = "no answer before the check's time ran out" if not str(result) else sanitize(str(result), 120)
        return Route(host, DNS_ERROR, detail=f"cannot tell: {what}: {why}", lookup_time=took)
    addresses = [a for f in families for fam, a in result if fam == f]
    addresses = list(dict.fromkeys(addresses))
    if not addresses:
        return Route(
            host, NO_ADDRESS, detail=f"{what} has no address of the families asked", lookup_time=took
        )
    note = "host given with -H (system resolver: /etc/hosts, then DNS)"
    return Route(host, EXPLICIT, [MXHost(host, 0, addresses, note=note)], lookup_time=took)


def literal_route(address: str) -> Route:
    """A route to an IP address given with ``-H``: no DNS needed."""
    return Route(address, EXPLICIT, [MXHost(address, 0, [address], note="host given with -H")])

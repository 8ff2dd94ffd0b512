"""How a null mailer's mail leaves: the value every MTA's egress reader hands back.

- :class:`Egress`  the route (straight to the recipient's MX, or a smarthost), the HELO
  name the MTA sends, and the addresses it sends from (a configured bind address, else
  the kernel's route source, filled in by :mod:`check_nullmailer.mta.egress_source`);
- :func:`read_egress` picks the MTA family's reader: :mod:`~check_nullmailer.mta.egress_postfix`,
  :mod:`~check_nullmailer.mta.egress_exim`, :mod:`~check_nullmailer.mta.egress_simple`
  (nullmailer, ssmtp, msmtp, dma, OpenSMTPD: one configuration file each).

Each reader was checked against the real MTA in the MTA lab (contrib/lab/mtas): the sink
there records the HELO name and the client's address beside ``MAIL FROM``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

DIRECT = "direct"  # to the recipient domain's MX hosts
SMARTHOST = "smarthost"  # to one configured relay

_READERS = {
    "postfix": "check_nullmailer.mta.egress_postfix",
    "exim": "check_nullmailer.mta.egress_exim",
    "nullmailer": "check_nullmailer.mta.egress_simple",
    "ssmtp": "check_nullmailer.mta.egress_simple",
    "msmtp": "check_nullmailer.mta.egress_simple",
    "dma": "check_nullmailer.mta.egress_simple",
    "opensmtpd": "check_nullmailer.mta.egress_simple",
}


@dataclass
class Egress:
    """How one MTA's mail leaves; unknown values are empty."""

    mta: str
    route: str = ""  # DIRECT, SMARTHOST, or "" (cannot tell)
    route_text: str = ""  # in the MTA's own words: "Postfix relayhost = [192.0.2.5]:587"
    smarthost: str = ""  # a host name or an address, as configured
    port: int = 25
    helo: str = ""  # the name in EHLO/HELO
    helo_text: str = ""
    bind: list[str] = field(default_factory=list)  # source addresses the MTA binds to
    bind_text: str = ""
    families: tuple[int, ...] = (6, 4)  # the IP versions the MTA sends over
    relay_addresses: list[str] = field(default_factory=list)  # the smarthost's addresses
    sources: list[str] = field(default_factory=list)  # the addresses mail leaves from
    source_text: str = ""  # how they were found
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def where(self) -> str:
        """``smarthost HOST port N`` or ``direct delivery`` (``route unknown``)."""
        if self.route == SMARTHOST:
            return f"smarthost {self.smarthost} port {self.port}"
        if self.route == DIRECT:
            return "direct delivery (the recipients' MX hosts)"
        return "route unknown"

    def line(self) -> str:
        """The one line the long output and the MTA lab read."""
        helo = self.helo or "unknown"
        sources = ", ".join(self.sources) or "unknown"
        return f"{self.where}, HELO {helo}, from {sources}"


def smarthost_of(text: str, default_port: int = 25) -> tuple[str, int]:
    """``host``, ``host:port``, ``[host]:port``, ``[2001:db8::1]:587`` -> (host, port)."""
    text = text.strip()
    port = default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        return host, port
    if text.count(":") == 1:
        host, _, tail = text.partition(":")
        if tail.isdigit():
            return host, int(tail)
        return host, port
    return text, port


def read_egress(info: Any, src: Any) -> Egress:
    """How ``info``'s MTA sends (``info`` is its :class:`~check_nullmailer.mta.base.MTAInfo`,
    ``src`` the :class:`~check_nullmailer.mta.base.Sources` it was read from); never
    raises for missing or closed files: what could not be read is a note."""
    module = importlib.import_module(_READERS[info.mta])
    egress: Egress = module.read(info, src)
    return egress

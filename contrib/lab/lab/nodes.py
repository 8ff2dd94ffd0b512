"""The hosts of the lab: one network namespace each, with its name and addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .base import (
    DNS_V4,
    DNS_V6,
    ESX_V4,
    FAULTS_V4,
    LAB_DIR,
    MON_V4,
    PREFIX,
    PRX_V4,
    PSX_V4,
    RX_V4,
    SENDER_OCTETS,
    SERVFAIL_V4,
    SILENT_V4,
)


@dataclass
class Node:
    name: str
    fqdn: str
    v4: list[str]
    v6: list[str] = field(default_factory=list)

    @property
    def ns(self) -> str:
        return PREFIX + self.name

    @property
    def dir(self) -> Path:
        return LAB_DIR / self.name


NODES = {
    n.name: n
    for n in [
        # 192.0.2.54 answers SERVFAIL to everything, 192.0.2.55 never answers, 192.0.2.56
        # serves a CNAME loop (dns_faults.py)
        Node("dns", "ns.test", [DNS_V4, SERVFAIL_V4, SILENT_V4, FAULTS_V4], [DNS_V6]),
        Node("rx", "mx.rx.test", [RX_V4], ["2001:db8::25"]),
        Node("prx", "mx.prx.test", [PRX_V4], ["2001:db8::26"]),
        # one Postfix plays the MX hosts of several scenario domains
        Node(
            "mx",
            "mx.good.test",
            [
                "192.0.2.10",
                "192.0.2.12",
                "192.0.2.13",
                "192.0.2.14",
                "192.0.2.15",
                "192.0.2.16",
                "192.0.2.17",
                "192.0.2.18",
                "192.0.2.19",
                "192.0.2.20",
            ],
            ["2001:db8::10", "2001:db8::17"],
        ),
        Node("web1", "web1.good.test", ["192.0.2.21"], ["2001:db8::21"]),
        Node("open", "openrelay.test", ["192.0.2.31"], ["2001:db8::31"]),
        Node("closed", "closedrelay.test", ["192.0.2.32"], ["2001:db8::32"]),
        Node("exrelay", "eximrelay.test", ["192.0.2.33"], ["2001:db8::33"]),
        Node("mon", "mon.test", [MON_V4], ["2001:db8::99"]),
        # the strict receivers and the sender host of their scenarios (one address each)
        Node("psx", "mx.psx.test", [PSX_V4], ["2001:db8::27"]),
        Node("esx", "mx.esx.test", [ESX_V4], ["2001:db8::28"]),
        Node("snd", "snd.test", [f"192.0.2.{n}" for n in SENDER_OCTETS]),
    ]
}

# ---------------------------------------------------------------- DNS zones

#: local parts the scenario MX hosts know
KNOWN_USERS = ["root", "postmaster", "user", "alice", "www-data"]

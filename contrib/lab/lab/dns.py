"""The lab's DNS: the zones of ``.test`` and the dnsmasq that serves them (cclab-dns)."""

from __future__ import annotations

from .base import DNS_V4, DNS_V6, ESX_V4, FAULTS_V4, MON_V4, PRX_V4, PSX_V4, RX_V4, nsrun, write
from .dns_faults import start_dns_faults
from .nodes import NODES
from .strict_scenarios import strict_dns_lines

#: name -> addresses (A and AAAA)
HOST_RECORDS = {
    "ns.test": [DNS_V4, DNS_V6],
    "mx.rx.test": [RX_V4, "2001:db8::25"],
    "mx.prx.test": [PRX_V4, "2001:db8::26"],
    "mx.good.test": ["192.0.2.10", "2001:db8::10"],
    "mx1.backup.test": ["192.0.2.11"],  # no host has this address: down
    "mx2.backup.test": ["192.0.2.12"],
    "mx.tempfail.test": ["192.0.2.14"],
    "implicit.test": ["192.0.2.15"],
    "mx.nobounce.test": ["192.0.2.16"],
    "mx6.good.test": ["2001:db8::10"],  # IPv6 only
    "mx.split.test": ["192.0.2.17", "2001:db8::17"],
    "mx1.manymx.test": ["192.0.2.14"],  # answers 451 at RCPT
    "mx2.manymx.test": ["192.0.2.18"],  # answers 451 at RCPT
    "mx3.manymx.test": ["192.0.2.12"],  # accepts
    "mx.catchall.test": ["192.0.2.19"],
    "mx.rcptnobounce.test": ["192.0.2.20"],
    "mx.nopm.test": ["192.0.2.13"],
    "web1.good.test": ["192.0.2.21", "2001:db8::21"],
    "openrelay.test": ["192.0.2.31", "2001:db8::31"],
    "closedrelay.test": ["192.0.2.32", "2001:db8::32"],
    "eximrelay.test": ["192.0.2.33", "2001:db8::33"],
    "mon.test": [MON_V4, "2001:db8::99"],
    "mx.psx.test": [PSX_V4, "2001:db8::27"],
    "mx.esx.test": [ESX_V4, "2001:db8::28"],
}
#: (domain, exchange, preference)
MX_RECORDS = [
    ("rx.test", "mx.rx.test", 10),
    ("good.test", "mx.good.test", 10),
    ("backup.test", "mx1.backup.test", 10),
    ("backup.test", "mx2.backup.test", 20),
    ("tempfail.test", "mx.tempfail.test", 10),
    ("flaky.test", "mx.tempfail.test", 10),
    ("flaky.test", "mx2.backup.test", 20),
    ("noaddr.test", "mx.noaddr.test", 10),  # exchange without any address
    ("v6only.test", "mx6.good.test", 10),
    ("nobounce.test", "mx.nobounce.test", 10),
    ("split.test", "mx.split.test", 10),
    ("prx.test", "mx.prx.test", 10),
    ("manymx.test", "mx1.manymx.test", 10),
    ("manymx.test", "mx2.manymx.test", 20),
    ("manymx.test", "mx3.manymx.test", 30),
    ("catchall.test", "mx.catchall.test", 10),
    ("rcptnobounce.test", "mx.rcptnobounce.test", 10),
    ("nopm.test", "mx.nopm.test", 10),
    ("psx.test", "mx.psx.test", 10),
    ("esx.test", "mx.esx.test", 10),
]
NULL_MX = ["nullmx.test"]
#: good.test's SPF: its MX and the null mailer web1.good.test (whose host-record also
#: gives it a PTR), so the null mailer passes strict receivers once it sends as good.test
GOOD_SPF = "v=spf1 mx ip4:192.0.2.21 ip6:2001:db8::21 -all"
#: the reverse zones are answered here: an address without a PTR is NXDOMAIN (a refused
#: reverse query is a temporary error to every receiver, not "no PTR")
REVERSE_ZONES = ["2.0.192.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa", "113.0.203.in-addr.arpa"]


def dnsmasq_conf() -> str:
    d = NODES["dns"].dir
    out = [
        "# lab DNS: authoritative answers for .test; nothing leaves the lab",
        "no-resolv",
        "no-hosts",
        "no-poll",
        "bind-interfaces",
        f"listen-address={DNS_V4}",
        f"listen-address={DNS_V6}",
        "local=/test/",
        # every name outside the zones (single labels, other TLDs, other reverse zones)
        # goes to the lab's own fault server, which answers NXDOMAIN: dnsmasq alone would
        # answer REFUSED, which receivers take as a temporary error (local=// covers only
        # A and AAAA queries of single labels: an MX query of one was still REFUSED)
        f"server={FAULTS_V4}",
        *(f"local=/{zone}/" for zone in REVERSE_ZONES),
        "user=root",
        "group=root",
        f"pid-file={d / 'dnsmasq.pid'}",
        f"log-facility={d / 'dnsmasq.log'}",
        "log-queries",
        "cache-size=0",
    ]
    for name, addrs in HOST_RECORDS.items():
        out.append(f"host-record={name},{','.join(addrs)}")
    for dom, exch, pref in MX_RECORDS:
        out.append(f"mx-host={dom},{exch},{pref}")
    for dom in NULL_MX:
        out.append(f"dns-rr={dom},15,000000")  # preference 0, exchange "."
    out.append(f'txt-record=good.test,"{GOOD_SPF}"')
    out += strict_dns_lines()
    return "\n".join(out) + "\n"


def start_dns() -> None:
    d = NODES["dns"].dir
    d.mkdir(parents=True, exist_ok=True)
    write(d / "dnsmasq.conf", dnsmasq_conf())
    nsrun("dns", "dnsmasq", f"--conf-file={d / 'dnsmasq.conf'}")
    start_dns_faults()

"""One DNS zone with the sender-check cases (SPF, PTR, HELO variants), served by the
in-process DNS responder on loopback.  Client addresses are from 192.0.2.0/24."""

from __future__ import annotations

from tests.support.servers import DROP, SERVFAIL

CLIENT = "192.0.2.30"  # PTR web1.good.test, forward-confirmed
NO_PTR = "192.0.2.31"
PTR_ELSEWHERE = "192.0.2.32"  # PTR other.good.test, whose A is another address
PTR_CNAME = "192.0.2.33"  # RFC 2317: the reverse name is a CNAME to a delegated PTR
PTR_LOOP = "192.0.2.34"  # the reverse name is a CNAME loop
PTR_SERVFAIL = "192.0.2.35"
PTR_NAME_LOOP = "192.0.2.36"  # the PTR names a CNAME loop, passed on unchased (as dnsmasq does)
CLIENT6 = "2001:db8::30"

_MX = ("MX", (10, "mx.good.test"))


def rev(address: str) -> str:
    import ipaddress

    return ipaddress.ip_address(address).reverse_pointer


ZONE: dict[str, object] = {
    "good.test": [_MX, ("TXT", "v=spf1 mx -all")],
    "mx.good.test": [("A", "192.0.2.25")],
    "web1.good.test": [("A", CLIENT), ("AAAA", CLIENT6), ("TXT", "v=spf1 a -all")],
    "web_1.good.test": [("A", CLIENT)],
    "noaddr.good.test": [("TXT", "v=spf1 -all")],
    "other.good.test": [("A", "192.0.2.99")],
    "web33.good.test": [("A", PTR_CNAME)],
    "heloflunk.test": [("A", CLIENT), ("TXT", "v=spf1 -all")],
    rev(CLIENT): [("PTR", "web1.good.test")],
    rev(CLIENT6): [("PTR", "web1.good.test")],
    rev(PTR_ELSEWHERE): [("PTR", "other.good.test")],
    rev(PTR_CNAME): [("CNAME", "33.32/27.2.0.192.in-addr.arpa")],
    "33.32/27.2.0.192.in-addr.arpa": [("PTR", "web33.good.test")],
    rev(PTR_LOOP): [("CNAME", "loop.2.0.192.in-addr.arpa")],
    "loop.2.0.192.in-addr.arpa": [("CNAME", rev(PTR_LOOP))],
    rev(PTR_SERVFAIL): SERVFAIL,
    rev(PTR_NAME_LOOP): [("PTR", "loop1.loop.test")],
    "loop1.loop.test": [("CNAME-ONLY", "loop2.loop.test")],
    "loop2.loop.test": [("CNAME-ONLY", "loop1.loop.test")],
    # SPF cases, each a sender domain with an MX
    "pass.test": [_MX, ("TXT", "v=spf1 ip4:192.0.2.30 ip6:2001:db8::30 -all")],
    "soft.test": [_MX, ("TXT", "v=spf1 ~all")],
    "neutral.test": [_MX, ("TXT", "v=spf1 ?all")],
    "none.test": [_MX, ("TXT", "some other text")],
    "syntax.test": [_MX, ("TXT", "v=spf1 ip4:192.0.2.300 -all")],
    "two.test": [_MX, ("TXT", "v=spf1 ip4:192.0.2.30 -all"), ("TXT", "v=spf1 -all")],
    "many.test": [_MX, ("TXT", "v=spf1 " + " ".join(f"a:h{i}.many.test" for i in range(11)) + " -all")],
    **{f"h{i}.many.test": [("A", "192.0.2.200")] for i in range(11)},
    "void.test": [
        _MX,
        ("TXT", "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:192.0.2.30 -all"),
    ],
    "loop.test": [_MX, ("TXT", "v=spf1 include:loop.test -all")],
    "redir.test": [_MX, ("TXT", "v=spf1 redirect=redir2.test")],
    "redir2.test": [("TXT", "v=spf1 redirect=redir.test")],
    "macro.test": [_MX, ("TXT", "v=spf1 exists:%{i}.ok.macro.test -all")],
    "192.0.2.30.ok.macro.test": [("A", "127.0.0.2")],
    "split.test": [_MX, ("TXT", ["v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ", "ip4:192.0.2.30 -all"])],
    "tempfail.test": [_MX, ("TXT", "v=spf1 include:broken.test -all")],
    "broken.test": SERVFAIL,
    "slow.test": DROP,
    "nullmx.test": [("MX", (0, "."))],
    "sfhelo.test": [("A", CLIENT), ("TXT", "v=spf1 -all")],
}

"""The strict scenarios: one sending configuration each (client address, HELO name,
MAIL FROM) and the DNS data it needs, for the strict receivers of cclab-psx and cclab-esx.

Every scenario leaves from its own address of the sender host (cclab-snd,
192.0.2.101-130; ``web1-fixed`` from the null mailer web1.good.test). By default the
address has a PTR ``sNNN.snd.test`` whose A record is the address again, the HELO name is
that name, and the sender is ``user@snd.test`` (SPF ``-all`` except 192.0.2.96-159); a
scenario changes one thing. The DNS data is written as dnsmasq lines (see ``dns.py``):
``host-record`` gives A and PTR, ``dns-rr=NAME,1,HEX`` an A record without a PTR, and an
explicit ``ptr-record`` is answered instead of a ``host-record``'s PTR.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .base import FAULTS_V4, SERVFAIL_V4, SILENT_V4

SENDER_DOMAIN = "snd.test"
#: snd.test's SPF: the sender host's addresses pass, everything else fails
SENDER_SPF = "v=spf1 ip4:192.0.2.96/27 ip4:192.0.2.128/27 -all"
#: the strict receivers' recipients (any local part is taken; the scenario id is used)
STRICT_RCPT_DOMAINS = {"postfix:strict": "psx.test", "exim:strict": "esx.test"}


def txt(name: str, *strings: str) -> str:
    """One TXT record of one or more strings (a long SPF record is split into several)."""
    return f"txt-record={name}," + ",".join(f'"{s}"' for s in strings)


def a_only(name: str, addr: str) -> tuple[str, ...]:
    """An A record without a PTR for its address (dnsmasq's ``address=`` makes none). The
    TXT record makes the name known to dnsmasq, so that AAAA is NODATA, not NXDOMAIN."""
    return (f"address=/{name}/{addr}", f'txt-record={name},"lab: an A record without a PTR"')


def host(name: str, addr: str) -> str:
    """A record and PTR."""
    return f"host-record={name},{addr}"


def ptr(addr: str, name: str) -> str:
    return f"ptr-record={ipaddress.ip_address(addr).reverse_pointer},{name}"


def mx(domain: str) -> str:
    """The sender domains' mail goes to the scenario MX host mx.good.test (it knows ``user``)."""
    return f"mx-host={domain},mx.good.test,10"


@dataclass(frozen=True)
class StrictScenario:
    """``sender`` "" is the null sender; ``real_mail``: a real Postfix null mailer also
    sends a message this way; ``node``: the namespace it leaves from."""

    id: str
    octet: int
    what: str
    helo: str = ""  # default: sNNN.snd.test
    sender: str = "user@snd.test"
    dns: tuple[str, ...] = ()
    default_host: bool = True  # sNNN.snd.test: A and PTR for the address
    real_mail: bool = False
    node: str = "snd"

    @property
    def addr(self) -> str:
        return f"192.0.2.{self.octet}"

    @property
    def host_name(self) -> str:
        return f"s{self.octet}.snd.test"

    @property
    def helo_name(self) -> str:
        return self.helo or self.host_name

    def dns_lines(self) -> list[str]:
        return ([host(self.host_name, self.addr)] if self.default_host else []) + list(self.dns)


def _spf(octet: int, label: str, what: str, *records: str, more: tuple[str, ...] = ()) -> StrictScenario:
    """A scenario about the MAIL FROM domain's SPF: sender user@LABEL.spf.test."""
    domain = f"{label}.spf.test"
    lines = (mx(domain),) + tuple(txt(domain, r) for r in records) + more
    return StrictScenario(f"spf-{label}", octet, what, sender=f"user@{domain}", dns=lines)


_LOOKUPS = tuple(f"l{i}.lookups.spf.test" for i in range(1, 12))
_LONG_SPF = "v=spf1 " + " ".join(f"ip4:203.0.113.{i}" for i in range(1, 21)) + " -all"

STRICT_SCENARIOS = [
    _spf(101, "pass", "SPF pass: the record lists the client", "v=spf1 ip4:192.0.2.101 -all"),
    _spf(102, "fail", "SPF fail: -all, the client is not listed", "v=spf1 ip4:203.0.113.1 -all"),
    _spf(103, "softfail", "SPF softfail: ~all", "v=spf1 ~all"),
    _spf(104, "none", "no SPF record"),
    _spf(105, "syntax", "SPF permerror: an unknown mechanism", "v=spf1 ip4:192.0.2.105 ip5:192.0.2.1 -all"),
    _spf(
        106,
        "two",
        "SPF permerror: two SPF records",
        "v=spf1 ip4:192.0.2.106 -all",
        "v=spf1 ip4:192.0.2.106 ~all",
    ),
    _spf(
        107,
        "lookups",
        "SPF permerror: 11 include lookups (more than 10)",
        "v=spf1 " + " ".join(f"include:{n}" for n in _LOOKUPS) + " ip4:192.0.2.107 -all",
        more=tuple(txt(n, "v=spf1 -all") for n in _LOOKUPS),
    ),
    _spf(
        108,
        "void",
        "SPF: 3 void lookups (more than 2) before the client's ip4",
        "v=spf1 a:v1.void.spf.test a:v2.void.spf.test a:v3.void.spf.test ip4:192.0.2.108 -all",
    ),
    _spf(109, "iloop", "SPF permerror: the record includes itself", "v=spf1 include:iloop.spf.test -all"),
    _spf(
        110,
        "rloop",
        "SPF permerror: redirect loop (rloop -> rloop2 -> rloop)",
        "v=spf1 redirect=rloop2.spf.test",
        more=(txt("rloop2.spf.test", "v=spf1 redirect=rloop.spf.test"),),
    ),
    _spf(
        111,
        "servfail",
        "SPF temperror: an include whose DNS server answers SERVFAIL",
        "v=spf1 include:spf.servfail.test ip4:192.0.2.111 -all",
    ),
    _spf(
        112,
        "timeout",
        "SPF temperror: an include whose DNS server never answers",
        "v=spf1 include:spf.silent.test ip4:192.0.2.112 -all",
    ),
    _spf(
        113,
        "macro",
        "SPF pass by a macro: exists:%{i}._spf.macro.spf.test",
        "v=spf1 exists:%{i}._spf.macro.spf.test -all",
        more=(*a_only("192.0.2.113._spf.macro.spf.test", "127.0.0.2"),),
    ),
    StrictScenario(
        "spf-long",
        114,
        "SPF fail: a record over 255 characters split into two TXT strings (the client not in it)",
        sender="user@long.spf.test",
        dns=(mx("long.spf.test"), txt("long.spf.test", _LONG_SPF[:200], _LONG_SPF[200:])),
    ),
    StrictScenario("clean", 115, "everything in order", real_mail=True),
    StrictScenario("helo-short", 116, "HELO a single label", helo="s116"),
    StrictScenario("helo-localhost", 117, "HELO localhost", helo="localhost", real_mail=True),
    StrictScenario("helo-no-address", 118, "HELO a name without any record", helo="noaddr.snd.test"),
    StrictScenario("helo-other-host", 119, "HELO another host's name (mx.good.test)", helo="mx.good.test"),
    StrictScenario(
        "helo-underscore",
        120,
        "HELO with an underscore (its A record is the client)",
        helo="s_120.snd.test",
        dns=(*a_only("s_120.snd.test", "192.0.2.120"),),
    ),
    StrictScenario(
        "helo-spf-fail",
        121,
        "the HELO name's own SPF fails (-all); MAIL FROM passes",
        dns=(txt("s121.snd.test", "v=spf1 -all"),),
    ),
    StrictScenario(
        "ptr-missing",
        122,
        "no PTR for the client (the HELO name's A record is the client)",
        default_host=False,
        dns=(*a_only("s122.snd.test", "192.0.2.122"),),
        real_mail=True,
    ),
    StrictScenario(
        "ptr-not-confirmed",
        123,
        "PTR names a host whose A record is another address",
        default_host=False,
        dns=(
            *a_only("s123.snd.test", "192.0.2.123"),
            ptr("192.0.2.123", "elsewhere.snd.test"),
            *a_only("elsewhere.snd.test", "203.0.113.123"),
        ),
    ),
    StrictScenario(
        "ptr-loop",
        124,
        "PTR names a CNAME loop (loop1 -> loop2 -> loop1)",
        default_host=False,
        dns=(*a_only("s124.snd.test", "192.0.2.124"), ptr("192.0.2.124", "loop1.loop.test")),
    ),
    StrictScenario(
        "ptr-cname",
        125,
        "PTR names a CNAME to the host's name",
        dns=(ptr("192.0.2.125", "alias.snd.test"), "cname=alias.snd.test,s125.snd.test"),
    ),
    StrictScenario(
        "sender-short", 126, "MAIL FROM a single-label domain (www-data@web1)", sender="www-data@web1"
    ),
    StrictScenario(
        "sender-nxdomain", 127, "MAIL FROM a domain that does not exist", sender="user@nosuch.snd.test"
    ),
    StrictScenario("bounce", 128, "a bounce: MAIL FROM:<>", sender=""),
    StrictScenario(
        "bounce-helo-spf-fail",
        129,
        "a bounce whose HELO name's SPF fails (-all)",
        sender="",
        dns=(txt("s129.snd.test", "v=spf1 -all"),),
    ),
    StrictScenario(
        "story",
        130,
        "the issue's story: www-data@story.test, SPF 'v=spf1 mx -all', the sender is not its MX",
        sender="www-data@story.test",
        dns=(mx("story.test"), txt("story.test", "v=spf1 mx -all")),
        real_mail=True,
    ),
    # the lab's null mailer after its seed fix (myorigin = $mydomain): PTR web1.good.test,
    # good.test's SPF lists its addresses (see dns.py)
    StrictScenario(
        "web1-fixed",
        21,
        "the null mailer web1.good.test after the seed fix (root@good.test)",
        helo="web1.good.test",
        sender="root@good.test",
        default_host=False,
        node="web1",
    ),
]
STRICT_SCENARIO = {s.id: s for s in STRICT_SCENARIOS}

#: domains whose mail the scenario MX host (cclab-mx) takes
STRICT_SENDER_DOMAINS = [SENDER_DOMAIN] + sorted(
    {s.sender.rpartition("@")[2] for s in STRICT_SCENARIOS if "." in s.sender.rpartition("@")[2]}
    - {SENDER_DOMAIN, "good.test", "nosuch.snd.test"}
)


def strict_dns_lines() -> list[str]:
    """Every dnsmasq line the strict scenarios need."""
    out = [mx(SENDER_DOMAIN), txt(SENDER_DOMAIN, SENDER_SPF)]
    for s in STRICT_SCENARIOS:
        out += s.dns_lines()
    # broken DNS servers for the temperror scenarios and the CNAME loop (dns_faults.py)
    out += [f"server=/servfail.test/{SERVFAIL_V4}", f"server=/silent.test/{SILENT_V4}"]
    out += [f"server=/loop.test/{FAULTS_V4}"]
    return out

"""Table tests of the receiver model: pure functions, no network."""

from __future__ import annotations

import pytest

from check_callout.net.routes import DNS_ERROR, IMPLICIT, MX, NO_ADDRESS, NULL_MX, NXDOMAIN, MXHost, Route
from check_callout.receiver import (
    ACCEPT,
    EXIM_DEFER_REPLY,
    EXIM_REJECT_REPLY,
    REJECT,
    TEMPFAIL,
    UNFINISHED,
    UNREACHABLE,
    Outcome,
    decide,
)

OK250 = Outcome(ACCEPT, "rcpt", 250, "2.1.5 Ok")
NO550 = Outcome(REJECT, "rcpt", 550, "5.1.1 unknown")
MAIL550 = Outcome(REJECT, "mail", 550, "5.7.1 no null senders")
BANNER554 = Outcome(REJECT, "banner", 554, "go away")
BANNER421 = Outcome(TEMPFAIL, "banner", 421, "busy")
GREY451 = Outcome(TEMPFAIL, "rcpt", 451, "4.7.1 greylisted")
REFUSED = Outcome(UNREACHABLE, "connect", 0, "refused port 25")
TIMEOUT = Outcome(UNREACHABLE, "connect", 0, "timed out on port 25")
LATE = Outcome(UNFINISHED, "banner", 0, "had not answered")


def route(*hosts: tuple[int, str, list[str]], status: str = MX) -> Route:
    return Route("d.test", status, [MXHost(name, pref, addrs) for pref, name, addrs in hosts])


TWO = route((10, "mx1", ["192.0.2.1"]), (20, "mx2", ["192.0.2.2"]))
DUAL = route((10, "mx1", ["2001:db8::1", "192.0.2.1"]), (20, "mx2", ["192.0.2.2"]))
EQUAL = route((10, "mx1", ["192.0.2.1"]), (10, "mx2", ["192.0.2.2"]))
SPLIT = route((10, "mx", ["2001:db8::7", "192.0.2.7"]))


@pytest.mark.parametrize(
    "the_route, outcomes, exim, deciding, degraded",
    [
        # accept by the first host
        (TWO, {"192.0.2.1": OK250, "192.0.2.2": OK250}, "accept", "192.0.2.1", []),
        # first refused, backup accepts: accept, degraded
        (TWO, {"192.0.2.1": REFUSED, "192.0.2.2": OK250}, "accept", "192.0.2.2", ["192.0.2.1"]),
        # first greylists (4xx): next host
        (TWO, {"192.0.2.1": GREY451, "192.0.2.2": OK250}, "accept", "192.0.2.2", ["192.0.2.1"]),
        # 421 greeting is temporary: next host
        (TWO, {"192.0.2.1": BANNER421, "192.0.2.2": OK250}, "accept", "192.0.2.2", ["192.0.2.1"]),
        # 5xx at RCPT ends it, the backup is not consulted
        (TWO, {"192.0.2.1": NO550, "192.0.2.2": OK250}, "reject", "192.0.2.1", []),
        # 5xx at MAIL FROM:<> and at the greeting are failures too
        (TWO, {"192.0.2.1": MAIL550, "192.0.2.2": OK250}, "reject", "192.0.2.1", []),
        (TWO, {"192.0.2.1": BANNER554, "192.0.2.2": OK250}, "reject", "192.0.2.1", []),
        # refused then rejected: reject
        (TWO, {"192.0.2.1": TIMEOUT, "192.0.2.2": NO550}, "reject", "192.0.2.2", ["192.0.2.1"]),
        # nobody answers decisively: defer
        (TWO, {"192.0.2.1": REFUSED, "192.0.2.2": GREY451}, "defer", None, []),
        (TWO, {"192.0.2.1": TIMEOUT, "192.0.2.2": TIMEOUT}, "defer", None, []),
        # IPv6 is tried before IPv4 on a host
        (
            DUAL,
            {"2001:db8::1": REFUSED, "192.0.2.1": OK250, "192.0.2.2": NO550},
            "accept",
            "192.0.2.1",
            ["2001:db8::1"],
        ),
        (DUAL, {"2001:db8::1": NO550, "192.0.2.1": OK250, "192.0.2.2": OK250}, "reject", "2001:db8::1", []),
        # equal preference, disagreeing hosts: Exim may pick either, we say reject
        (EQUAL, {"192.0.2.1": OK250, "192.0.2.2": NO550}, "reject", "192.0.2.2", []),
        (EQUAL, {"192.0.2.1": REFUSED, "192.0.2.2": OK250}, "accept", "192.0.2.2", ["192.0.2.1"]),
        # one host's own addresses are not shuffled: IPv6 decides before IPv4 (seen on Exim 4.96)
        (SPLIT, {"2001:db8::7": OK250, "192.0.2.7": NO550}, "accept", "2001:db8::7", []),
        (SPLIT, {"2001:db8::7": REFUSED, "192.0.2.7": NO550}, "reject", "192.0.2.7", ["2001:db8::7"]),
        # later addresses of the deciding host were never tried: not degraded
        (DUAL, {"2001:db8::1": OK250, "192.0.2.1": REFUSED, "192.0.2.2": OK250}, "accept", "2001:db8::1", []),
    ],
)
def test_exim_order(the_route, outcomes, exim, deciding, degraded):
    decision = decide(the_route, outcomes)
    assert decision.exim == exim
    assert (decision.deciding.address if decision.deciding else None) == deciding
    assert [a.address for a in decision.degraded] == degraded
    if exim == "defer":
        assert decision.exim_reply == EXIM_DEFER_REPLY
    if exim == "reject":
        assert decision.exim_reply == EXIM_REJECT_REPLY


@pytest.mark.parametrize(
    "status, exim, reply",
    [
        (NXDOMAIN, "reject", "550 Unrouteable address"),
        (NULL_MX, "reject", "550 Sender verify failed"),
        (NO_ADDRESS, "reject", "550 Sender verify failed"),
        (DNS_ERROR, None, "451"),
    ],
)
def test_no_route(status, exim, reply):
    decision = decide(Route("d.test", status, detail="why"), {})
    assert decision.exim == exim
    assert decision.exim_reply.startswith(reply)
    assert decision.reason == "why"


def test_unfinished_host_is_remembered():
    decision = decide(TWO, {"192.0.2.1": LATE, "192.0.2.2": REFUSED})
    assert decision.exim == "defer"
    assert [a.address for a in decision.unfinished] == ["192.0.2.1"]
    decision = decide(TWO, {"192.0.2.1": LATE, "192.0.2.2": OK250})
    assert decision.exim == "accept" and [a.address for a in decision.unfinished] == ["192.0.2.1"]


def test_implicit_route_and_hosts_without_addresses_are_skipped():
    the_route = Route("d.test", IMPLICIT, [MXHost("d.test", 0, ["192.0.2.9"], implicit=True)])
    assert decide(the_route, {"192.0.2.9": REFUSED}).exim == "defer"
    skipping = route((10, "ghost", []), (20, "mx2", ["192.0.2.2"]))
    assert decide(skipping, {"192.0.2.2": OK250}).exim == "accept"


def test_reason_names_the_host_and_reply():
    decision = decide(TWO, {"192.0.2.1": REFUSED, "192.0.2.2": GREY451})
    assert decision.reason == (
        "mx1 [192.0.2.1] refused port 25; mx2 [192.0.2.2] defers RCPT (451 4.7.1 greylisted)"
    )
    decision = decide(DUAL, {"2001:db8::1": REFUSED, "192.0.2.1": REFUSED, "192.0.2.2": GREY451})
    assert decision.reason == (
        "mx1 [2001:db8::1, 192.0.2.1] refused port 25; mx2 [192.0.2.2] defers RCPT (451 4.7.1 greylisted)"
    )
    long_reply = Outcome(REJECT, "rcpt", 550, "x" * 300)
    assert len(decide(TWO, {"192.0.2.1": long_reply}).reason) < 100

"""Unit tests of the engine over real loopback servers: every server address is asked
once whatever the number of senders, DNS failures become routes that cannot tell, and
the deadline turns a silent host into an unfinished answer."""

from __future__ import annotations

import time

from check_callout.address import parse_address
from check_callout.engine import run_callouts
from check_callout.net.routes import DNS_ERROR, MX
from check_callout.receiver import ACCEPT, REJECT, UNFINISHED
from check_callout.settings import CalloutSettings
from tests.support.hostile import tarpit
from tests.support.servers import SERVFAIL, Behaviour, DNSTestServer, RawServer, SMTPTestServer, free_port


def settings(dns: DNSTestServer, port: int, **extra) -> CalloutSettings:
    return CalloutSettings(
        port=port,
        helo="monitor.test",
        nameserver="127.0.0.1",
        dns_port=dns.port,
        families=(4,),
        timeout=3,
        connect_timeout=2,
        **extra,
    )


def test_senders_sharing_a_server_use_one_connection():
    port = free_port(["127.0.0.1", "127.0.0.2"])
    zone = {
        "a.test": [("MX", (10, "mx.a.test"))],
        "b.test": [("MX", (10, "mx.b.test"))],
        "mx.a.test": [("A", "127.0.0.1")],
        "mx.b.test": [("A", "127.0.0.1")],  # the same server under another name
    }
    behaviour = Behaviour(rcpt_for={"nobody": "550 5.1.1 no such user"})
    with SMTPTestServer("127.0.0.1", port, behaviour) as server, DNSTestServer(zone) as dns:
        senders = [parse_address(s) for s in ("www-data@a.test", "nobody@a.test", "www-data@b.test")]
        results = run_callouts(senders, settings(dns, port), time.monotonic() + 10)
    assert [r.decision.exim for r in results] == [ACCEPT, REJECT, ACCEPT]
    assert server.handler.connections == 1
    # the callout's questions, then the Postfix profile's (its own probe sender), one connection
    assert [c for c in server.commands if c.startswith("RCPT")] == [
        "RCPT www-data@a.test",
        "RCPT nobody@a.test",
        "RCPT www-data@b.test",
    ] * 2
    assert [c for c in server.commands if c.startswith("MAIL")] == ["MAIL <>"] * 3 + [
        "MAIL double-bounce@monitor.test"
    ] * 3
    assert all(r.route.status == MX for r in results)
    assert "DATA" not in server.commands


def test_random_and_postmaster_ride_on_the_same_connection():
    port = free_port()
    zone = {"a.test": [("MX", (10, "mx.a.test"))], "mx.a.test": [("A", "127.0.0.1")]}
    with SMTPTestServer("127.0.0.1", port) as server, DNSTestServer(zone) as dns:
        [result] = run_callouts(
            [parse_address("www-data@a.test")],
            settings(dns, port, random=True, postmaster=True),
            time.monotonic() + 10,
        )
    assert server.handler.connections == 1
    rcpts = [c for c in server.commands if c.startswith("RCPT")]
    assert rcpts[0].startswith("RCPT callout-check-") and rcpts[1:] == [
        "RCPT www-data@a.test",
        "RCPT postmaster@a.test",
        "RCPT www-data@a.test",  # the Postfix profile's question
    ]
    assert result.random_decision.exim == ACCEPT and result.postmaster_decision.exim == ACCEPT


def test_a_failing_resolver_gives_a_route_that_cannot_tell():
    with DNSTestServer({"a.test": SERVFAIL}) as dns:
        [result] = run_callouts([parse_address("x@a.test")], settings(dns, 25), time.monotonic() + 10)
    assert result.route.status == DNS_ERROR
    assert result.decision.exim is None and result.dialogues == []


def test_the_deadline_ends_a_silent_host_as_unfinished():
    port = free_port()
    zone = {"a.test": [("MX", (10, "mx.a.test"))], "mx.a.test": [("A", "127.0.0.1")]}
    with RawServer("127.0.0.1", port, tarpit()), DNSTestServer(zone) as dns:
        start = time.monotonic()
        [result] = run_callouts([parse_address("x@a.test")], settings(dns, port), start + 1.5)
        took = time.monotonic() - start
    assert took < 2.5
    [attempt] = result.decision.attempts
    assert attempt.outcome.kind == UNFINISHED
    assert result.dialogues[0].total >= 1.0  # how long it was waited for

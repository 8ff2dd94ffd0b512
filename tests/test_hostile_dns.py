"""check_callout against hostile or odd DNS answers (dnslib on loopback).

Non-public MX addresses other than loopback are tried inside a network namespace that
has only ``lo``: there a probe of 10.x or 169.254.x fails at once and no packet leaves.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.support.hostile import (
    Namespace,
    ProcessRun,
    TruncatingDNSServer,
    assert_well_formed,
    callout,
    dialogue,
    netns_available,
)
from tests.support.servers import DNSTestServer, RawServer, free_port

T = 3
ACCEPT = "127.0.0.31"  # an accepting server
MANY = 100


def many_mx_zone() -> dict[str, object]:
    zone: dict[str, object] = {
        "many.test": [("MX", (10 * (i + 1), f"mx{i:03d}.many.test")) for i in range(MANY)]
    }
    for i in range(MANY):
        zone[f"mx{i:03d}.many.test"] = [("A", f"127.0.1.{i + 1}")]  # nothing listens: refused
    return zone


ZONE: dict[str, object] = {
    **many_mx_zone(),
    "literal.test": [("MX", (10, ACCEPT))],
    "cname.test": [("MX", (10, "alias.cname.test"))],
    "alias.cname.test": [("CNAME", "real.cname.test")],
    "real.cname.test": [("A", ACCEPT)],
    "loop.test": [("MX", (10, "a.loop.test"))],
    "a.loop.test": [("CNAME", "b.loop.test")],
    "b.loop.test": [("CNAME", "a.loop.test")],
    "selfloop.test": [("CNAME", "selfloop.test")],
    "loopback.test": [("MX", (10, "mx.loopback.test"))],
    "mx.loopback.test": [("A", ACCEPT)],
}


@pytest.fixture(scope="module")
def smtp_port():
    port = free_port([ACCEPT])
    with RawServer(ACCEPT, port, dialogue()):
        yield port


@pytest.fixture(scope="module")
def dns():
    with DNSTestServer(ZONE) as server:
        yield server


def check(dns_server, port: int, *args: str) -> ProcessRun:
    run = callout(
        "-p",
        str(port),
        *dns_server.args,
        "-t",
        str(T),
        "--connect-timeout",
        "1",
        "--helo",
        "monitor.test",
        *args,
    )
    assert_well_formed(run, timeout=T)
    return run


def probed_hosts(run: ProcessRun) -> list[str]:
    return re.findall(r"^  MX \d+ (\S+)", run.output, re.M)


def test_hostile_100_mx_records_probe_only_max_hosts(dns, smtp_port):
    dns.resolver.queries.clear()
    run = check(dns, smtp_port, "-s", "alice@many.test", "--allow-private")
    assert run.code == 2, run  # every probed host refuses
    assert len(probed_hosts(run)) == 10, run
    assert f"{MANY - 10} more MX hosts not probed (--max-hosts)" in run.output, run
    looked_up = {name for name, qtype in dns.resolver.queries if qtype in ("A", "AAAA")}
    assert len(looked_up) == 10, looked_up  # no address lookups for hosts it will not probe


def test_hostile_max_hosts_option(dns, smtp_port):
    run = check(dns, smtp_port, "-s", "alice@many.test", "--allow-private", "--max-hosts", "3")
    assert len(probed_hosts(run)) == 3, run
    assert f"{MANY - 3} more MX hosts not probed" in run.output, run


def test_hostile_udp_answers_truncated_fall_back_to_tcp(smtp_port):
    with TruncatingDNSServer(ZONE) as server:
        run = check(server, smtp_port, "-s", "alice@many.test", "--allow-private")
        mx_queries = [q for q in server.resolver.queries if q == ("many.test", "MX")]
    assert len(mx_queries) == 2, mx_queries  # over UDP (truncated), then over TCP
    assert run.code == 2 and len(probed_hosts(run)) == 10, run


def test_hostile_udp_answers_truncated_and_no_tcp(smtp_port):
    with TruncatingDNSServer(ZONE, tcp=False) as server:
        run = check(server, smtp_port, "-s", "alice@many.test", "--allow-private")
    assert run.code == 3, run
    assert "cannot tell" in run.first_line, run


def test_hostile_mx_target_is_an_ip_literal(dns, smtp_port):
    run = check(dns, smtp_port, "-s", "alice@literal.test", "--allow-private")
    assert run.code == 2, run
    assert "MX target is an IP address" in run.output, run


def test_hostile_mx_points_at_a_cname(dns, smtp_port):
    run = check(dns, smtp_port, "-s", "alice@cname.test", "--allow-private")
    assert run.code == 0, run
    assert "accepts RCPT" in run.first_line, run


@pytest.mark.parametrize("domain", ["loop.test", "selfloop.test"])
def test_hostile_cname_loop(dns, smtp_port, domain):
    run = check(dns, smtp_port, "-s", f"alice@{domain}", "--allow-private")
    assert run.code in (2, 3), run


def test_hostile_mx_on_loopback_warns_unless_allowed(dns, smtp_port):
    run = check(dns, smtp_port, "-s", "alice@loopback.test")
    assert run.code == 1, run
    assert f"MX points at a non-public address ({ACCEPT})" in run.first_line, run
    allowed = check(dns, smtp_port, "-s", "alice@loopback.test", "--allow-private")
    assert allowed.code == 0, allowed


NON_PUBLIC = ["10.1.2.3", "172.20.0.9", "192.168.1.1", "169.254.10.10", "fd12:3456::1", "fe80::1"]


@pytest.fixture(scope="module")
def namespace():
    if not netns_available():
        pytest.skip("needs root and iproute2 for a network namespace")
    with Namespace("hostile") as ns:
        yield ns


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_hostile_mx_on_private_or_link_local_address(namespace, address):
    """MX 10 on a non-public address (unroutable in the namespace), MX 20 accepts."""
    for extra, warns in (([], True), (["--allow-private"], False)):
        done = namespace.run([sys.executable, "-m", "tests.support.hostile", "private", address, *extra])
        assert done.returncode == 0, done.stderr
        run = ProcessRun(**json.loads(done.stdout))
        assert_well_formed(run, timeout=3)
        if extra and address == "fd12:3456::1":
            # the namespace reaches no IPv6 address at all: that family is the monitoring
            # host's blind spot, not the domain's fault (OK with a note), and the IPv4 MX decides
            assert run.code == 0 and "this host reaches no IPv6 address" in run.output, run
            continue
        assert run.code == 1, run  # the preferred MX cannot be reached: degraded at least
        assert ("MX points at a non-public address" in run.output) is warns, run
        assert "accepts RCPT" in run.output, run

"""Never OK when blind: the network as an unlucky monitoring host sees it, made real in
throwaway network namespaces (``cchn-*``) with their own host table and resolver.

- a dual-stack name whose IPv6 address refuses while its IPv4 address relays;
- no route at all (a namespace with only ``lo``), a port every packet to it is dropped;
- an IPv4-only monitoring host and an MX host with an AAAA record;
- ``-H`` through ``/etc/hosts``; plain SMTP on port 465.
"""

from __future__ import annotations

import json

import pytest

from tests.support.ci import require
from tests.support.hostile import assert_well_formed
from tests.support.sandbox import Sandbox, sandbox_available

T = "4"
FAST = ["-t", T, "--connect-timeout", "1", "--helo", "monitor.test"]
NM = "check_nullmailer.plugin"
CO = "check_callout.plugin"
PORT = "2525"


@pytest.fixture(autouse=True)
def _root():
    require(sandbox_available(), "network namespaces need root and iproute2")


def serve(box: Sandbox, module: str, args: list[str], smtp: list[str] = (), dns: dict | None = None):
    extra = [a for spec in smtp for a in ("--smtp", spec)]
    if dns is not None:
        extra += ["--dns", json.dumps(dns)]
    return box.scene("serve", *extra, "--", module, *args)


# ------------------------------------------------------------------ check_nullmailer -H


def test_dual_stack_name_every_address_audited():
    """IPv6 first in the host table, port refused there; the IPv4 address relays."""
    hosts = "::1 dual.test\n127.0.0.1 dual.test\n"
    with Sandbox("dual", hosts=hosts) as box:
        run = serve(box, NM, ["-H", "dual.test", "--ports", PORT, *FAST], smtp=[f"127.0.0.1,{PORT},open"])
    match = assert_well_formed(run, "NULLMAILER")
    assert run.code == 2, run
    assert "open relay" in match.group("text") and "127.0.0.1" in match.group("text"), run
    assert "::1" in run.output and "not listening" in run.output, run  # both reported


@pytest.mark.parametrize("target", ["192.0.2.25", "2001:db8::25"])
def test_no_route_is_cannot_tell(target):
    """A namespace with only lo: ENETUNREACH is not a closed port."""
    with Sandbox("noroute") as box:
        run = box.plugin(NM, "-H", target, "--ports", "25,587", *FAST)
    match = assert_well_formed(run, "NULLMAILER")
    assert run.code == 3, run
    assert "cannot tell" in match.group("text") and "unreachable" in match.group("text"), run


# A link whose far end has no address: SYNs to 192.0.2.2 (a static neighbour, no ARP)
# go out and nothing ever answers, as behind a firewall that drops.
FILTERED = [
    ["ip", "link", "add", "cchn0", "type", "veth", "peer", "name", "cchn1"],
    ["ip", "addr", "add", "192.0.2.1/24", "dev", "cchn0"],
    ["ip", "link", "set", "cchn0", "up"],
    ["ip", "link", "set", "cchn1", "up"],
    ["ip", "neigh", "add", "192.0.2.2", "lladdr", "02:00:00:00:00:02", "dev", "cchn0", "nud", "permanent"],
]


def test_every_port_filtered_is_cannot_tell_unless_told():
    with Sandbox("filtered", setup=FILTERED) as box:
        blind = box.plugin(NM, "-H", "192.0.2.2", "--ports", "25,587", *FAST)
        told = box.plugin(NM, "-H", "192.0.2.2", "--ports", "25", "--filtered-closed", *FAST)
    match = assert_well_formed(blind, "NULLMAILER")
    assert blind.code == 3 and "filtered" in match.group("text"), blind
    assert_well_formed(told, "NULLMAILER")
    assert told.code == 0 and "filtered" in told.first_line, told


def test_refused_is_closed():
    with Sandbox("refused") as box:
        run = box.plugin(NM, "-H", "127.0.0.1", "--ports", PORT, *FAST)
    assert_well_formed(run, "NULLMAILER")
    assert run.code == 0 and f"not listening on {PORT}" in run.first_line, run


def test_plain_smtp_on_465_is_tested_in_clear_text():
    with Sandbox("p465") as box:
        run = serve(box, NM, ["-H", "127.0.0.1", "--ports", "465", *FAST], smtp=["127.0.0.1,465,open"])
    match = assert_well_formed(run, "NULLMAILER")
    assert run.code == 2 and "open relay" in match.group("text"), run
    assert "clear text" in run.output, run


# ------------------------------------------------------------------ check_callout


DUAL_ZONE = {
    "dual.test": [["MX", [10, "mx.dual.test"]]],
    "mx.dual.test": [["AAAA", "2001:db8::25"], ["A", "127.0.0.1"]],
}
RESOLV = "nameserver 127.0.0.1\n"


def test_ipv4_only_monitor_aaaa_mx_is_not_the_domains_fault():
    """No IPv6 route here; the MX host's IPv4 address accepts: OK with a note."""
    args = ["-s", "alice@dual.test", "-p", PORT, "--allow-private", *FAST]
    with Sandbox("v4only", resolv_conf=RESOLV) as box:
        run = serve(box, CO, args, smtp=[f"127.0.0.1,{PORT},open"], dns=DUAL_ZONE)
        strict = serve(
            box,
            CO,
            [*args, "--unreachable-family", "warning"],
            smtp=[f"127.0.0.1,{PORT},open"],
            dns=DUAL_ZONE,
        )
    match = assert_well_formed(run)
    assert run.code == 0, run
    assert "more preferred" not in run.output, run
    assert "IPv6" in run.output and "this host" in run.output, run  # the note says why
    assert "would accept" in match.group("text"), run
    assert_well_formed(strict)
    assert strict.code == 1 and "more preferred" not in strict.output, strict


def test_every_address_unreachable_from_here_is_unknown():
    zone = {"far.test": [["MX", [10, "mx.far.test"]]], "mx.far.test": [["AAAA", "2001:db8::25"]]}
    with Sandbox("v4blind", resolv_conf=RESOLV) as box:
        run = serve(box, CO, ["-s", "alice@far.test", "-p", PORT, *FAST], dns=zone)
    match = assert_well_formed(run)
    assert run.code == 3 and "cannot tell" in match.group("text"), run


def test_same_host_other_address_is_not_more_preferred():
    zone = {
        "two.test": [["MX", [10, "mx.two.test"]]],
        "mx.two.test": [["A", "127.0.0.2"], ["A", "127.0.0.1"]],
    }
    args = ["-s", "alice@two.test", "-p", PORT, "--allow-private", *FAST]
    with Sandbox("twoaddr", resolv_conf=RESOLV) as box:
        run = serve(box, CO, args, smtp=[f"127.0.0.1,{PORT},open"], dns=zone)
    assert_well_formed(run)
    assert run.code == 1, run  # one address of the MX host refuses: degraded
    assert "more preferred" not in run.output and "127.0.0.2" in run.first_line, run


def test_explicit_host_from_the_host_table():
    """-H NAME without --nameserver honours /etc/hosts (the resolver there is dead)."""
    with Sandbox("hosts", hosts="127.0.0.1 mx.hosts.test\n", resolv_conf=RESOLV) as box:
        run = serve(
            box, CO, ["-s", "alice@example.test", "-H", "mx.hosts.test", "-p", PORT, *FAST],
            smtp=[f"127.0.0.1,{PORT},open"],
        )  # fmt: skip
        typo = box.plugin(CO, "-s", "alice@example.test", "-H", "mx.hots.test", "-p", PORT, *FAST)
    assert_well_formed(run)
    assert run.code == 0, run
    match = assert_well_formed(typo)
    assert typo.code == 3 and "mx.hots.test" in match.group("text"), typo


def test_explicit_host_that_does_not_exist_is_unknown():
    """-H is the operator's choice: NXDOMAIN for it is a typo to fix, not a verdict."""
    from tests.support.hostile import callout
    from tests.support.servers import DNSTestServer

    with DNSTestServer({"other.test": [("A", "127.0.0.1")]}) as dns:
        run = callout("-s", "alice@example.test", "-H", "mx.nothere.test", *dns.args, *FAST)
    match = assert_well_formed(run)
    assert run.code == 3 and "mx.nothere.test" in match.group("text"), run
    assert "would reject" not in run.output, run

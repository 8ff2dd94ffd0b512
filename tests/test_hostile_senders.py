"""Hostile DNS data for the sender checks: SPF and PTR text with control characters and
'|', a huge record, many TXT records, a PTR with many names; every run ends with a
well-formed plugin line, sanitised, within -t."""

from __future__ import annotations

import pytest

from tests.support.hostile import NASTY_TEXT, assert_well_formed, callout
from tests.support.servers import DNSTestServer, SMTPTestServer, free_port

NASTY = NASTY_TEXT.decode("utf-8", "replace")
CLIENT = "192.0.2.30"
REV = "30.2.0.192.in-addr.arpa"
BASE = {"mx.evil.test": [("A", "127.0.0.1")]}


def zone(txt: list, ptr: list | None = None) -> dict:
    records = {**BASE, "evil.test": [("MX", (10, "mx.evil.test")), *[("TXT", t) for t in txt]]}
    records["web1.evil.test"] = [("A", CLIENT)]
    records[REV] = [("PTR", p) for p in (ptr or ["web1.evil.test"])]
    return records


CASES = {
    "nasty SPF text": zone([f"v=spf1 {NASTY} -all"]),
    "nasty explanation": zone(["v=spf1 -all exp=exp.evil.test"]) | {"exp.evil.test": [("TXT", NASTY)]},
    "huge split record": zone([["v=spf1 "] + [f"ip4:203.0.113.{i % 250} " for i in range(400)] + ["-all"]]),
    "fifty TXT records": zone([f"note {i} {NASTY}" for i in range(50)] + ["v=spf1 -all"]),
    "many PTR names": zone(["v=spf1 -all"], [f"h{i}.evil.test" for i in range(40)]),
    "PTR with a pipe": zone(["v=spf1 -all"], ["a|b.evil.test"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_sender_dns(name):
    port = free_port()
    with DNSTestServer(CASES[name]) as dns, SMTPTestServer("127.0.0.1", port):
        run = callout(
            "-s",
            "a@evil.test",
            "--client-ip",
            CLIENT,
            "--helo-name",
            "web1.evil.test",
            *dns.args,
            "-p",
            str(port),
            "--allow-private",
            "-t",
            "6",
            "-v",
        )
    assert_well_formed(run, timeout=6)
    assert run.code in (1, 2, 3), run  # every case fails SPF or reverse DNS, or cannot tell
    assert "|" not in run.output.split(" | ", 1)[0], run
    assert "\x1b" not in run.output and "\r" not in run.output

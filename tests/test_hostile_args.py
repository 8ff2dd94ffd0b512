"""Hostile command lines: every bad value ends UNKNOWN (exit 3) with the reason, fast."""

from __future__ import annotations

import pytest

from tests.support.hostile import assert_well_formed, callout
from tests.support.servers import closed_port

PORT = str(closed_port())
LONG_LABEL = "a" * 64
LONG_DOMAIN = ".".join(["d" * 63] * 3) + "." + "d" * 57 + ".test"  # 254 characters
FULL_DOMAIN = ".".join(["d" * 61] * 4) + ".t"  # 251 characters: valid, but not with a local part

CASES = {
    # name: (arguments, words expected in the UNKNOWN line)
    "carriage-return-in-sender": (["-s", "alice\r@example.test"], "control character (0x0d)"),
    "line-feed-in-sender": (["-s", "alice@example.test\nRCPT TO:<x@y>"], "control character (0x0a)"),
    "line-feed-in-helo": (["-s", "a@example.test", "--helo", "mon\nitor"], "control character (0x0a)"),
    "escape-in-domain": (["-d", "example\x1b[2J.test"], "control character (0x1b)"),
    "space-in-local-part": (["-s", "ali ce@example.test"], "not a valid local part"),
    "space-in-domain": (["-s", "alice@exam ple.test"], "domain contains a space"),
    "space-in-mail-from": (["-s", "a@example.test", "--mail-from", "x y@example.test"], "local part"),
    "local-part-too-long": (["-s", "a" * 65 + "@example.test"], "local part longer than 64"),
    "label-too-long": (["-s", f"alice@{LONG_LABEL}.test"], "not a valid domain name"),
    "domain-too-long": (["-s", f"alice@{LONG_DOMAIN}"], "domain longer than 253"),
    "address-too-long": (["-s", f"alice@{FULL_DOMAIN}"], "address longer than 254"),
    "empty-sender": (["-s", ""], "empty address"),
    "empty-domain": (["-d", ""], "empty domain"),
    "empty-local-part": (["-s", "@example.test"], "empty local part"),
    "no-at-sign": (["-s", "alice.example.test"], "no @"),
    "empty-helo": (["-s", "a@example.test", "--helo", ""], "empty domain"),
    "non-ascii-local-part": (["-s", "jörg@example.test"], "SMTPUTF8"),
    "non-ascii-mail-from": (["-s", "a@example.test", "--mail-from", "jörg@example.test"], "SMTPUTF8"),
    "bad-idn": (["-s", "alice@\u2764\ufe0f\u200d.test"], "internationalised domain"),
    "address-literal": (["-s", "alice@[127.0.0.1]"], "address literals"),
    "empty-host": (
        ["-s", "a@example.test", "-H", "", "--nameserver", "127.0.0.1", "--dns-port", PORT],
        "empty host",
    ),
    "empty-nameserver": (["-s", "a@example.test", "--nameserver", ""], "--nameserver"),
    "no-sender-at-all": ([], "give at least one sender"),
    "port-zero": (["-s", "a@example.test", "-p", "0"], "port out of range"),
    "negative-timeout": (["-s", "a@example.test", "-t", "-1"], "usage error"),
    "max-hosts-zero": (["-s", "a@example.test", "--max-hosts", "0"], "--max-hosts"),
    "nameserver-not-an-ip": (["-s", "a@example.test", "--nameserver", "dns.example"], "--nameserver"),
    "unknown-option": (["-s", "a@example.test", "--frobnicate"], "usage error"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_argument(case):
    args, words = CASES[case]
    run = callout("-H", "127.0.0.1", "-p", PORT, "-t", "2", *args)
    assert_well_formed(run, timeout=2)
    assert run.code == 3, run
    assert words in run.first_line, run
    assert run.output.count("\n") == 1, run  # one line, nothing else


def test_hostile_nul_in_argument(callout):
    """NUL cannot reach a process through argv; a caller in-process gets UNKNOWN too."""
    run = callout("-H", "127.0.0.1", "-p", PORT, "-s", "alice\0@example.test")
    assert run.code == 3 and "control character (0x00)" in run.first_line, run.output


def test_hostile_long_arguments_stay_on_one_short_line():
    run = callout("-H", "127.0.0.1", "-p", PORT, "-s", "x" * 100_000 + "@example.test")
    assert_well_formed(run, timeout=2)
    assert run.code == 3 and len(run.first_line) < 400, run

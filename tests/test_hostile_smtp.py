"""check_callout against SMTP servers that misbehave on purpose.

Each case runs the plugin as a real process against a raw server on loopback and holds
it to the monitoring contract (tests/hostile.py: assert_well_formed): exit 0-3, one
well-formed first line with parseable perfdata, done within -t + 1 s, bounded memory.
"""

from __future__ import annotations

import re

import pytest

from tests.support.hostile import (
    FIRST_LINE,
    NASTY_TEXT,
    assert_well_formed,
    callout,
    dialogue,
    drip,
    failing_starttls,
    flood,
    send_and_close,
    tarpit,
)
from tests.support.servers import RawServer, free_port

T = 2  # -t for every case: the suite stays fast, the bounds stay tight
HOST = "127.0.0.1"
NASTY = NASTY_TEXT


@pytest.fixture
def port():
    return free_port([HOST])


def probe(port: int, *extra: str):
    run = callout(
        "-H",
        HOST,
        "-p",
        str(port),
        "-s",
        "alice@example.test",
        "-t",
        str(T),
        "--connect-timeout",
        "1",
        "--helo",
        "monitor.test",
        *extra,
    )
    match = assert_well_formed(run, "CALLOUT", timeout=T)
    return run, match


CASES = {
    # name: (server script, expected exit code, words expected in the first line)
    "tarpit-banner-never-comes": (tarpit(), 3, "had not answered"),
    "drip-1-byte-per-second": (drip(), 3, "had not answered"),
    "1MB-line-without-newline": (flood(b"220 ", b"x" * 65536, 1 << 20), 2, "broke the protocol"),
    "endless-line-200MB": (flood(b"220 ", b"y" * 65536, 200 << 20), 2, "broke the protocol"),
    "10000-continuation-lines-banner": (
        flood(b"", b"220-hostile.test says hello\r\n" * 1000, 10_000 * 29),
        2,
        "longer than",
    ),
    "10000-continuation-lines-ehlo": (
        dialogue(replies={b"EHLO": b"250-hostile.test\r\n" * 10_000 + b"250 OK\r\n"}),
        2,
        "longer than",
    ),
    "endless-continuation-lines": (flood(b"", b"220-more and more\r\n" * 4000, 200 << 20), 2, "longer than"),
    "421-at-banner": (dialogue(banner=b"421 4.3.2 Service not available, closing\r\n"), 2, "421"),
    "closed-in-the-middle-of-the-banner": (
        send_and_close(b"220-hostile.test\r\n220-still"),
        2,
        "closed the connection",
    ),
    "closed-in-the-middle-of-ehlo": (
        dialogue(close_after={b"EHLO": b"250-hostile.test\r\n250-PIPELI"}),
        2,
        "closed the connection",
    ),
    "closed-in-the-middle-of-rcpt": (
        dialogue(close_after={b"RCPT": b"550-5.1.1 no such\r\n550-user"}),
        2,
        "closed the connection",
    ),
    "reply-code-not-a-number-banner": (
        dialogue(banner=b"2x0 hostile.test ESMTP\r\n"),
        2,
        "not an SMTP reply",
    ),
    "reply-code-not-a-number-rcpt": (dialogue(replies={b"RCPT": b"abc ok\r\n"}), 2, "not an SMTP reply"),
    "reply-code-out-of-range": (dialogue(replies={b"RCPT": b"999 what\r\n"}), 2, "out of range"),
    "bare-lf-and-no-text": (dialogue(banner=b"220\n", replies={b"RCPT": b"250\n"}), 0, "accepts RCPT"),
    "non-utf8-bytes": (
        dialogue(
            banner=b"220 \xff\xfe\xc3( hostile \xe2\x28\xa1\r\n",
            replies={b"RCPT": b"250 2.1.5 \xff\xfe\xfd ok \xc3\x28\r\n"},
        ),
        0,
        "accepts RCPT",
    ),
    "control-characters-and-pipes-everywhere": (
        dialogue(
            banner=b"220 " + NASTY + b"\r\n",
            replies={
                b"EHLO": b"250-" + NASTY + b"\r\n250 " + NASTY + b"\r\n",
                b"RCPT": b"550-5.1.1 " + NASTY + b"\n550 5.1.1 |user| unknown\x1b[2J\r\n",
            },
        ),
        2,
        "rejects RCPT",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_server(case, port):
    script, code, words = CASES[case]
    with RawServer(HOST, port, script):
        run, match = probe(port)
    assert run.code == code, run
    assert words in run.output, run
    assert "mx_hosts" in run.perfdata, run


def test_hostile_nasty_text_is_sanitised(port):
    log: list[bytes] = []
    script = dialogue(
        banner=b"220 " + NASTY + b"\r\n",
        replies={b"RCPT": b"550 5.1.1 a|b \x1b[31mred\x1b[0m\rc\r\n"},
        log=log,
    )
    with RawServer(HOST, port, script):
        run, match = probe(port, "-vv")
    assert run.code == 2, run
    text = match.group("text")
    assert "a/b red c" in text, run  # '|' became '/', the ANSI escape went, CR became a space
    assert "\x1b" not in run.output and "\r" not in run.output, run
    assert run.output.count(" | ") <= 1, run  # only the perfdata separator


def test_hostile_starttls_failing_handshake_retries_in_clear(port):
    log: list[bytes] = []
    with RawServer(HOST, port, failing_starttls(log)):
        run, _ = probe(port)
    assert run.code == 0, run
    assert "TLS failed" in run.output and "retried in clear text" in run.output, run
    verbs = [line.split(b" ")[0].strip().upper() for line in log]
    assert verbs.count(b"STARTTLS") == 1 and verbs.count(b"EHLO") == 2, log


def test_hostile_starttls_then_silence(port):
    """STARTTLS is answered 220, then the server never takes part in the handshake."""

    def script(conn):
        from tests.support.hostile import _wait_for_close
        from tests.support.servers import read_command

        conn.sendall(b"220 hostile.test ESMTP\r\n")
        for _ in range(10):
            line = read_command(conn)
            if not line:
                return
            if line.upper().startswith(b"STARTTLS"):
                conn.sendall(b"220 go ahead\r\n")
                _wait_for_close(conn)
                return
            conn.sendall(
                b"250-hostile.test\r\n250 STARTTLS\r\n" if line.upper().startswith(b"EHLO") else b"250 ok\r\n"
            )

    with RawServer(HOST, port, script):
        run, _ = probe(port)
    assert run.code in (2, 3), run


def test_hostile_accept_everything_never_gets_data(port):
    log: list[bytes] = []
    with RawServer(HOST, port, dialogue(log=log)):
        run, _ = probe(port, "--random", "--postmaster")
    assert_well_formed(run, timeout=T)
    verbs = [line.split(b" ")[0].split(b":")[0].strip().upper() for line in log]
    assert b"RCPT" in verbs and b"DATA" not in verbs and b"BDAT" not in verbs, log
    assert verbs[-1] == b"QUIT" and verbs[-2] == b"RSET", verbs


def test_first_line_pattern_rejects_broken_lines():
    """The shared assertion really catches what a monitoring system would choke on."""
    good = [
        "CALLOUT OK - fine | time=0.1s;1;2;0 'time_mx.test'=0.2s;;;0",
        "NULLMAILER WARNING - queue has 3 mails | deferred=3;1;5;0",
        "CALLOUT UNKNOWN - no perfdata at all",
    ]
    bad = [
        "CALLOUT OK fine",
        "CALLOUT FINE - x",
        "CALLOUT OK - a | b | c=1",
        "CALLOUT OK - x | label with space=1",
        "CALLOUT OK - x | 'a'b'=1",
        "callout OK - x",
        "CALLOUT OK - x | time=abc",
    ]
    assert all(FIRST_LINE.match(line) for line in good)
    assert not any(FIRST_LINE.match(line) for line in bad), [b for b in bad if FIRST_LINE.match(b)]
    assert re.search("x", "x")

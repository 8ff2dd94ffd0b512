"""check_nullmailer -H against SMTP servers that misbehave on purpose (same contract as
check_callout: tests/hostile.py assert_well_formed)."""

from __future__ import annotations

import pytest

from tests.support.hostile import NASTY_TEXT, assert_well_formed, dialogue, drip, flood, nullmailer, tarpit
from tests.support.servers import RawServer, free_port

T = 2
HOST = "127.0.0.1"


@pytest.fixture
def port():
    return free_port([HOST])


def audit(port: int, *extra: str):
    run = nullmailer(
        "-H",
        HOST,
        "--ports",
        str(port),
        "-t",
        str(T),
        "--connect-timeout",
        "1",
        "--helo",
        "monitor.test",
        *extra,
    )
    assert_well_formed(run, "NULLMAILER", timeout=T)
    return run


CASES = {
    "tarpit-banner-never-comes": tarpit(),
    "drip-1-byte-per-second": drip(),
    "endless-line-200MB": flood(b"220 ", b"y" * 65536, 200 << 20),
    "endless-continuation-lines": flood(b"", b"220-more and more\r\n" * 4000, 200 << 20),
    "reply-code-not-a-number": dialogue(replies={b"RCPT": b"abc ok\r\n"}),
    "closed-in-the-middle-of-rcpt": dialogue(close_after={b"RCPT": b"250-ok\r\n250-"}),
    "control-characters-and-pipes": dialogue(
        banner=b"220 " + NASTY_TEXT + b"\r\n", replies={b"RCPT": b"550 " + NASTY_TEXT + b"\r\n"}
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_nullmailer(case, port):
    with RawServer(HOST, port, CASES[case]):
        audit(port)


def test_hostile_nullmailer_accept_everything_never_gets_data(port):
    """An open relay that accepts every RCPT: the battery finds it and queues nothing."""
    log: list[bytes] = []
    with RawServer(HOST, port, dialogue(log=log)):
        run = audit(port)
    verbs = [line.split(b" ")[0].split(b":")[0].strip().upper() for line in log]
    assert b"RCPT" in verbs, log
    assert b"DATA" not in verbs and b"BDAT" not in verbs, log
    assert run.code == 2, run  # an open relay is CRITICAL

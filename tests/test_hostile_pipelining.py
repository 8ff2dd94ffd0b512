"""A pipelined batch broken off part way: the replies received before the break are answers.

Exim has its reply to RCPT before it sends anything else, so a server that answers MAIL
and RCPT and then hangs up (or says garbage) at RSET has answered the callout.  Each case
runs against a real server on loopback twice, once offering PIPELINING and once not:
the verdict must be the same.
"""

from __future__ import annotations

import time

import pytest

from check_callout.probe import ProbeSettings, run_dialogue
from check_callout.receiver import ACCEPT, REJECT, UNREACHABLE
from tests.support.hostile import assert_well_formed, callout, dialogue
from tests.support.servers import RawServer, free_port, read_command

T = 3
HOST = "127.0.0.1"
PIPELINING = b"250-hostile.test\r\n250 PIPELINING\r\n"
PLAIN = b"250-hostile.test\r\n250 8BITMIME\r\n"


def probe(port: int, *extra: str):
    run = callout(
        "-H", HOST, "-p", str(port), "-s", "alice@example.test", "-t", str(T),
        "--connect-timeout", "1", "--helo", "monitor.test", *extra,
    )  # fmt: skip
    assert_well_formed(run, "CALLOUT", timeout=T)
    return run


CASES = {
    # name: (dialogue arguments, expected exit code, words in the output)
    "drop-at-rset": ({"close_after": {b"RSET": b""}}, 0, "accepts RCPT"),
    "drop-mid-line-of-the-rset-reply": ({"close_after": {b"RSET": b"250 2.0.0 fl"}}, 0, "accepts RCPT"),
    "garbage-instead-of-the-rset-reply": (
        {"replies": {b"RSET": b"\x00\x01garbage \xff\r\n"}},
        0,
        "accepts RCPT",
    ),
    "garbage-right-after-the-rcpt-reply": (
        {"replies": {b"RCPT": b"250 2.1.5 ok\r\nnot smtp at all\r\n"}},
        0,
        "accepts RCPT",
    ),
    "rejected-then-drop-at-rset": (
        {"replies": {b"RCPT": b"550 5.1.1 no such user\r\n"}, "close_after": {b"RSET": b""}},
        2,
        "rejects RCPT",
    ),
    # no answer to RCPT: that question is judged by the break, with or without PIPELINING
    "drop-after-the-mail-reply": ({"close_after": {b"RCPT": b""}}, 2, "closed the connection at RCPT"),
    "drop-mid-line-of-the-rcpt-reply": (
        {"close_after": {b"RCPT": b"250 2.1"}},
        2,
        "closed the connection at RCPT",
    ),
}


@pytest.mark.parametrize("ehlo", [PIPELINING, PLAIN], ids=["pipelining", "one-at-a-time"])
@pytest.mark.parametrize("case", list(CASES))
def test_replies_before_a_break_are_answers(case, ehlo):
    kwargs, code, words = CASES[case]
    replies = {b"EHLO": ehlo, **kwargs.get("replies", {})}
    port = free_port([HOST])
    with RawServer(HOST, port, dialogue(replies=replies, close_after=kwargs.get("close_after"))):
        run = probe(port)
    assert run.code == code, run
    assert words in run.output, run


@pytest.mark.parametrize("ehlo", [PIPELINING, PLAIN], ids=["pipelining", "one-at-a-time"])
def test_a_server_that_hangs_up_at_every_rset_answers_every_question(ehlo):
    """Several questions (the address and postmaster): each connection answers one, and
    the check reconnects for the rest while it makes progress."""
    port = free_port([HOST])
    log: list[bytes] = []
    script = dialogue(replies={b"EHLO": ehlo}, close_after={b"RSET": b""}, log=log)
    with RawServer(HOST, port, script):
        run = probe(port, "--postmaster")
    assert run.code == 0, run
    assert "closed the connection" not in run.output, run
    rcpts = b"".join(line for line in log if line.upper().startswith(b"RCPT")).lower()
    assert b"postmaster" in rcpts and b"alice" in rcpts, log
    # bounded: the questions (alice and postmaster from <>, alice from double-bounce) + 2
    assert sum(line.upper().startswith(b"EHLO") for line in log) <= 5, log


def _batch_server(connections: list[list[bytes]]):
    """Offers PIPELINING.  On its first connection it reads the whole pipelined group
    (three questions), answers MAIL, RCPT and RSET of the first question and MAIL of the
    second, then hangs up (nothing left unread: a clean close, no reset).  Later
    connections answer each command (``second`` is rejected)."""

    def script(conn):
        first = not connections
        seen: list[bytes] = []
        connections.append(seen)
        conn.sendall(b"220 batch.test ESMTP\r\n")
        for _ in range(50):
            line = read_command(conn)
            if not line:
                return
            seen.append(line.strip())
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(PIPELINING)
            elif first and verb == b"MAIL":
                seen.extend(read_command(conn).strip() for _ in range(8))
                conn.sendall(b"250 ok\r\n250 2.1.5 ok\r\n250 reset\r\n250 ok\r\n")
                return  # the second RCPT gets no reply on the first connection
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            elif verb == b"RCPT" and b"second" in line:
                conn.sendall(b"550 5.1.1 unknown\r\n")
            else:
                conn.sendall(b"250 ok\r\n")

    return script


def test_a_batch_cut_after_the_first_answer_asks_only_the_rest_again():
    port = free_port([HOST])
    connections: list[list[bytes]] = []
    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    rcpts = ["first@d.test", "second@d.test", "third@d.test"]
    with RawServer(HOST, port, _batch_server(connections)):
        result = run_dialogue("batch.test", HOST, rcpts, settings, time.monotonic() + 5)
    kinds = {r: result.outcomes[r].kind for r in rcpts}
    assert kinds == {"first@d.test": ACCEPT, "second@d.test": REJECT, "third@d.test": ACCEPT}, result
    assert len(connections) == 2, connections
    asked_again = [line for line in connections[1] if line.upper().startswith(b"RCPT")]
    assert asked_again == [b"RCPT TO:<second@d.test>", b"RCPT TO:<third@d.test>"], connections


def test_a_server_that_never_answers_rcpt_is_not_asked_forever():
    """A pipelined group broken off with nothing answered is asked once more one command
    at a time; no progress there either: the questions are judged by the break."""
    port = free_port([HOST])
    log: list[bytes] = []
    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    script = dialogue(replies={b"EHLO": PIPELINING}, close_after={b"RCPT": b""}, log=log)
    with RawServer(HOST, port, script):
        result = run_dialogue("h", HOST, ["a@d.test", "b@d.test"], settings, time.monotonic() + 5)
    assert {o.kind for o in result.outcomes.values()} == {UNREACHABLE}, result
    assert sum(line.upper().startswith(b"EHLO") for line in log) == 2, log

"""The SMTP session and the callout dialogue against real servers on loopback."""

from __future__ import annotations

import time

import pytest

from check_callout.net.smtp import SMTPSession
from check_callout.net.smtp_wire import ProbeError
from check_callout.probe import ProbeSettings, run_dialogue
from check_callout.receiver import ACCEPT, REJECT, TEMPFAIL, UNREACHABLE
from tests.support.servers import (
    Behaviour,
    RawServer,
    SMTPTestServer,
    closed_port,
    free_port,
    read_command,
    scripted_smtp,
)

HOST = "127.0.0.1"


def session(port: int, **kwargs) -> SMTPSession:
    kwargs.setdefault("helo", "monitor.test")
    kwargs.setdefault("deadline", time.monotonic() + 5)
    kwargs.setdefault("timeout", 3)
    kwargs.setdefault("transcript", [])
    return SMTPSession(HOST, port, **kwargs)


def test_full_dialogue_and_features():
    port = free_port()
    with SMTPTestServer(HOST, port, Behaviour(rcpt_for={"nobody": "550 5.1.1 unknown"})) as server:
        with session(port) as s:
            assert s.open().code == 250
            assert "8bitmime" in s.features
            assert s.mail("").code == 250
            assert s.rcpt("someone@d.test").positive
            assert s.rset().code == 250
            s.mail("")
            reply = s.rcpt("nobody@d.test")
            assert reply.permanent and reply.code == 550 and reply.text == "5.1.1 unknown"
        assert server.commands[-1] == "RCPT nobody@d.test"
        assert s.transcript[-1] == "C: QUIT"


def test_refused_is_a_probe_error():
    with pytest.raises(ProbeError) as err:
        session(closed_port()).open()
    assert err.value.kind == "refused" and err.value.phase == "connect"


def test_helo_fallback_when_ehlo_refused():
    port = free_port()
    log: list[bytes] = []
    with RawServer(HOST, port, scripted_smtp(replies={b"EHLO": b"502 5.5.1 no ESMTP here\r\n"}, log=log)):
        with session(port) as s:
            reply = s.open()
            assert reply.code == 250 and reply.phase == "helo"
            assert not s.esmtp
    assert log[:2] == [b"EHLO monitor.test\r\n", b"HELO monitor.test\r\n"]


def test_reply_codes_out_of_range_and_garbage_are_protocol_errors():
    port = free_port()
    with RawServer(HOST, port, scripted_smtp(banner=b"hello there\r\n")):
        with pytest.raises(ProbeError) as err:
            session(port).open()
    assert err.value.kind == "protocol" and err.value.phase == "banner"


def test_connection_closed_mid_dialogue_is_reconnected_once():
    port = free_port()
    calls = {"n": 0}

    def script(conn):
        calls["n"] += 1
        conn.sendall(b"220 flaky.test\r\n")
        for _ in range(20):
            line = read_command(conn)
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"RCPT" and b"second" in line and calls["n"] == 1:
                conn.sendall(b"250-partial")  # then drop the connection mid-reply
                return
            conn.sendall({b"EHLO": b"250 flaky.test\r\n", b"QUIT": b"221 bye\r\n"}.get(verb, b"250 ok\r\n"))

    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    with RawServer(HOST, port, script):
        dialogue = run_dialogue(
            "flaky.test", HOST, ["first@d.test", "second@d.test"], settings, time.monotonic() + 5
        )
    assert dialogue.outcomes["first@d.test"].kind == ACCEPT
    assert dialogue.outcomes["second@d.test"].kind == ACCEPT
    assert calls["n"] == 2


def test_dialogue_outcomes_for_mail_rejection_and_banner():
    port = free_port()
    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    with RawServer(HOST, port, scripted_smtp(replies={b"MAIL": b"553 5.7.1 no null sender\r\n"})):
        dialogue = run_dialogue("h", HOST, ["a@d.test", "b@d.test"], settings, time.monotonic() + 5)
    assert {o.kind for o in dialogue.outcomes.values()} == {REJECT}
    assert dialogue.outcomes["a@d.test"].phase == "mail"
    port = free_port()
    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    with RawServer(HOST, port, scripted_smtp(banner=b"421 4.3.2 busy\r\n")):
        dialogue = run_dialogue("h", HOST, ["a@d.test"], settings, time.monotonic() + 5)
    assert dialogue.outcomes["a@d.test"].kind == TEMPFAIL
    dialogue = run_dialogue("h", HOST, ["a@d.test"], ProbeSettings(port=closed_port()), time.monotonic() + 5)
    assert dialogue.outcomes["a@d.test"].kind == UNREACHABLE


def test_failed_tls_handshake_is_retried_in_clear(tmp_path):
    port = free_port()
    log: list[bytes] = []
    calls = {"n": 0}

    def script(conn):
        calls["n"] += 1
        conn.sendall(b"220 tls.test\r\n")
        for _ in range(20):
            line = read_command(conn)
            if not line:
                return
            log.append(line)
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-tls.test\r\n250 STARTTLS\r\n")
            elif verb == b"STAR":
                conn.sendall(b"220 go ahead\r\n")
                conn.sendall(b"this is not a TLS server hello\r\n" * 4)
                return
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    with RawServer(HOST, port, script):
        dialogue = run_dialogue("tls.test", HOST, ["a@d.test"], settings, time.monotonic() + 5)
    assert dialogue.outcomes["a@d.test"].kind == ACCEPT
    assert "retried in clear text" in dialogue.tls_note
    assert calls["n"] == 2
    assert log.count(b"STARTTLS\r\n") == 1


def test_deadline_bounds_a_silent_server():
    port = free_port()

    def tarpit(conn):
        time.sleep(3)

    with RawServer(HOST, port, tarpit):
        start = time.monotonic()
        with pytest.raises(ProbeError) as err:
            session(port, deadline=time.monotonic() + 0.8, timeout=30).open()
        assert time.monotonic() - start < 1.5
    assert err.value.kind == "deadline"


def test_pipelining_when_offered():
    port = free_port()
    received: list[bytes] = []
    chunks: list[int] = []

    def script(conn):
        conn.sendall(b"220 pipe.test\r\n")
        conn.settimeout(5)
        buffer = b""
        for _ in range(200):
            data = conn.recv(65536)
            if not data:
                return
            chunks.append(data.count(b"\r\n"))
            buffer += data
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                received.append(line)
                verb = line[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-pipe.test\r\n250 PIPELINING\r\n")
                elif verb == b"RCPT":
                    conn.sendall(b"550 5.1.1 unknown\r\n" if b"bad" in line else b"250 2.1.5 ok\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    rcpts = [f"user{i}@d.test" for i in range(12)] + ["bad@d.test"]
    settings = ProbeSettings(port=port, helo="monitor.test", timeout=3, connect_timeout=2)
    with RawServer(HOST, port, script):
        dialogue = run_dialogue("pipe.test", HOST, rcpts, settings, time.monotonic() + 5)
    assert [dialogue.outcomes[r].kind for r in rcpts] == [ACCEPT] * 12 + [REJECT]
    verbs = [line.split(b" ")[0].split(b":")[0] for line in received]
    assert verbs[0] == b"EHLO" and verbs[-1] == b"QUIT" and b"DATA" not in verbs
    assert verbs[1:-1] == [b"MAIL", b"RCPT", b"RSET"] * 13
    assert max(chunks) > 3  # several commands arrived in one write

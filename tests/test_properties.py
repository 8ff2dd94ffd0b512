"""Property-based tests (hypothesis) on the SMTP reply reader and the output sanitiser.

The reader is fed through a real socket pair, byte for byte what a server could send.
"""

from __future__ import annotations

import re
import socket
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_callout.kit.text import perf_label, sanitize
from check_callout.net.smtp import KEEP_LINES, KINDS, MAX_LINE, ProbeError, SMTPSession

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_reply(data: bytes, close: bool = True) -> tuple[int, bytes]:
    """What SMTPSession makes of ``data`` arriving from a server."""
    ours, theirs = socket.socketpair()
    try:
        session = SMTPSession("127.0.0.1", helo="monitor.test", deadline=time.monotonic() + 5, timeout=0.5)
        session._sock = ours
        theirs.sendall(data)
        if close:
            theirs.shutdown(socket.SHUT_WR)
        return session._read_reply()
    finally:
        ours.close()
        theirs.close()


lines = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b""))
codes = st.integers(min_value=200, max_value=599)


@SETTINGS
@given(st.binary(max_size=20_000))
def test_any_bytes_give_a_reply_or_a_probe_error(data):
    try:
        code, text = read_reply(data)
    except ProbeError as exc:
        assert exc.kind in KINDS
        assert len(exc.detail) <= 160 and "\n" not in exc.detail
        return
    assert 200 <= code <= 599
    assert text.count(b"\n") < KEEP_LINES
    assert all(len(line) <= MAX_LINE for line in text.split(b"\n"))


@SETTINGS
@given(codes, st.lists(lines, min_size=1, max_size=80), st.sampled_from([b"\r\n", b"\n"]))
def test_well_formed_replies_are_read_whole(code, texts, eol):
    head = str(code).encode()
    data = b"".join(head + b"-" + t + eol for t in texts[:-1]) + head + b" " + texts[-1] + eol
    got_code, got_text = read_reply(data + b"250 the next reply\r\n")
    assert got_code == code
    kept = got_text.split(b"\n")
    assert kept == [t.strip(b" \t\r") for t in texts][:KEEP_LINES]


@SETTINGS
@given(codes, st.integers(min_value=MAX_LINE + 1, max_value=3 * MAX_LINE))
def test_over_long_lines_are_a_protocol_error_not_a_500(code, size):
    data = str(code).encode() + b" " + b"x" * size + b"\r\n"
    try:
        read_reply(data)
    except ProbeError as exc:
        assert exc.kind == "protocol" and "longer than" in exc.detail
    else:
        raise AssertionError("an over-long line was accepted")


@SETTINGS
@given(st.binary(min_size=1, max_size=200))
def test_incomplete_reply_then_close_is_closed_or_protocol(data):
    data = data.replace(b"\n", b"")
    try:
        read_reply(data)
    except ProbeError as exc:
        assert exc.kind in ("closed", "protocol")
    else:
        raise AssertionError("a reply without end of line was accepted")


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
text_or_bytes = st.one_of(st.text(max_size=500), st.binary(max_size=500))


@SETTINGS
@given(text_or_bytes, st.integers(min_value=3, max_value=400))
def test_sanitised_text_is_one_safe_line(value, limit):
    out = sanitize(value, limit)
    assert len(out) <= limit
    assert not CONTROL.search(out), repr(out)
    assert "|" not in out and "\x1b" not in out
    assert out == out.strip() and "  " not in out
    assert sanitize(out, limit) == out  # idempotent


@SETTINGS
@given(st.text(max_size=300).map(lambda t: "ab" + t))
def test_ansi_and_pipes_never_survive(text):
    nasty = f"\x1b[31m{text}|\x1b]0;{text}\x07|\r\n\x9b2J"
    out = sanitize(nasty, 10_000)
    assert "|" not in out and not CONTROL.search(out)


@SETTINGS
@given(text_or_bytes)
def test_perf_labels_are_safe(value):
    label = perf_label(value.decode("latin-1") if isinstance(value, bytes) else value)
    assert re.fullmatch(r"[A-Za-z0-9_.:@\[\]-]{1,60}", label), label

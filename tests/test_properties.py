"""Property-based tests (hypothesis) on the SMTP reply reader, the output sanitiser and the
whole output path (arbitrary server replies onto a stdout of any encoding).

The reader is fed through a real socket pair, byte for byte what a server could send.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from contextlib import redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_callout.kit.text import perf_label, sanitize
from check_callout.net.smtp import SMTPSession
from check_callout.net.smtp_wire import KEEP_LINES, KINDS, MAX_LINE, ProbeError
from tests.support.hostile import FIRST_LINE, LABEL, dialogue
from tests.support.servers import RawServer, free_port

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


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")
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


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(BIDI)), max_size=30).map("".join))
def test_bidi_controls_never_survive(text):
    out = sanitize(text, 10_000)
    assert not any(ch in BIDI for ch in out), repr(out)


@SETTINGS
@given(text_or_bytes)
def test_perf_labels_are_safe(value):
    label = perf_label(value.decode("latin-1") if isinstance(value, bytes) else value)
    assert re.fullmatch(r"[A-Za-z0-9_.:@\[\]-]{1,60}", label), label


# --------------------------------------------------------------------------- the output path
# Arbitrary server replies, through the whole plugin (in-process, a real loopback server),
# onto a stdout of an arbitrary encoding: the first line stays well-formed, encodable,
# free of bidi and control characters, bounded, with the same perfdata labels.

BIDI_OR_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x09\x0b-\x1f\x7f-\x9f]")
FIRST_LINE_BOUND = 512  # NRPE v2 keeps 1 KiB: the whole first line, perfdata included, stays well under
ENCODINGS = ("ascii", "latin-1", "utf-8", "cp1252", "iso8859-15")
reply_text = st.one_of(
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.sampled_from(
        ["\u202eevil\u202c", "b\u00fccher.test", "\u2067x\u2069 \x1b[31m|red", "\ufeff\u2028"]
    ).map(str.encode),
).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b" "))


class _Scripted:
    """The RawServer's script, replaced per example."""

    def __init__(self) -> None:
        self.script = dialogue()
        self.lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        with self.lock:
            script = self.script
        script(conn)


def _run_callout(port: int, encoding: str) -> bytes:
    from check_callout.plugin import main

    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="\n")
    with redirect_stdout(out):
        try:
            main(
                [
                    "-s",
                    "a@example.test",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-t",
                    "3",
                    "--helo",
                    "monitor.test",
                ]
            )
        except SystemExit:
            pass
        out.flush()
    return raw.getvalue()


SCRIPTED = _Scripted()


@pytest.fixture(scope="module")
def scripted_port():
    port = free_port()
    with RawServer("127.0.0.1", port, SCRIPTED):
        yield port


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([b"250", b"450", b"550", b"421", b"553", b"999", b"25x"]),
    reply_text,
    st.sampled_from([b"RCPT", b"MAIL", b"EHLO", b"banner"]),
    st.sampled_from(ENCODINGS),
)
def test_any_reply_gives_a_safe_first_line(scripted_port, code, text, where, encoding):
    reply = code + b" " + text + b"\r\n"
    if where == b"banner":
        SCRIPTED.script = dialogue(banner=reply)
    else:
        SCRIPTED.script = dialogue(replies={where: reply})
    data = _run_callout(scripted_port, encoding)
    text_out = data.decode(encoding)  # every byte is the encoding's own
    if encoding == "ascii":
        assert data.isascii()
    line = text_out.split("\n", 1)[0]
    match = FIRST_LINE.match(line)
    assert match, repr(line)
    assert not BIDI_OR_CONTROL.search(text_out), repr(text_out)
    assert len(line) <= FIRST_LINE_BOUND, len(line)
    labels = {item.strip("'") for item in re.findall(rf"({LABEL})=", match.group("perf") or "")}
    assert labels == {"time_127.0.0.1", "mx_accepting", "mx_hosts", "time"}, labels

"""The process contract under a hostile environment (issue 13, items 10 and 11): a
non-UTF-8 stdout, bidirectional overrides from a server, terminating signals, stdout on
a full disk or a closed pipe, ``-vvv``.  Real plugin processes, real signals, real
file descriptors; servers on loopback."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from tests.support.hostile import FIRST_LINE, STATES, dialogue
from tests.support.processes import finish, noticed_tarpit, plugin_env, start
from tests.support.servers import RawServer, closed_port, free_port

HOST = "127.0.0.1"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# a rejection whose text turns the rest of the line around, with an IDN domain in it
EVIL_REPLY = "550 5.1.1 <a@b\u00fccher.test> \u202egnp.kcehc\u202c unknown \u2067x\u2069\r\n".encode()


def args_for(name: str, port: int, *extra: str) -> list[str]:
    common = ["-t", "4", "--connect-timeout", "2", "--helo", "monitor.test", *extra]
    if name == "CALLOUT":
        return ["-s", "a@example.test", "-H", HOST, "-p", str(port), *common]
    return ["-H", HOST, "--ports", str(port), *common]


def first_line_ok(out: bytes, name: str, code: int) -> re.Match[str]:
    line = out.decode("ascii").split("\n", 1)[0]
    match = FIRST_LINE.match(line)
    assert match, out
    assert match.group("name") == name and STATES[match.group("state")] == code, out
    return match


# --------------------------------------------------------------------------- item 10


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "latin-1"},
        {"PYTHONIOENCODING": "ascii"},
        {"PYTHONUTF8": "0", "LC_ALL": "C"},
        {"LC_ALL": "C"},
    ],
    ids=["latin-1", "ascii", "C-no-utf8-mode", "C"],
)
def test_any_output_encoding_and_no_bidi(env):
    port = free_port()
    with RawServer(HOST, port, dialogue(replies={b"RCPT": EVIL_REPLY})):
        code, out, err = finish(start("CALLOUT", args_for("CALLOUT", port), env=plugin_env(**env)))
    text = out.decode("utf-8", "replace")
    assert code == 2, (out, err)  # the rejection is judged, not an internal error
    assert "internal error" not in text and b"Traceback" not in err
    assert not any(ch in text for ch in BIDI), text
    assert "gnp.kcehc" in text  # the server's words stay, without their overrides
    if env.get("PYTHONIOENCODING") in ("ascii",) or env.get("PYTHONUTF8") == "0":
        out.decode("ascii")  # every byte ASCII: what the locale can show
        first_line_ok(out, "CALLOUT", 2)


# --------------------------------------------------------------------------- item 11


@pytest.mark.parametrize("name", ["CALLOUT", "NULLMAILER"])
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_gives_an_unknown_line(name, signame):
    port = free_port()
    connected = threading.Event()
    with RawServer(HOST, port, noticed_tarpit(connected)):
        proc = start(name, args_for(name, port, "-t", "15"))
        assert connected.wait(10), "the plugin never connected"
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signame))
        code, out, err = finish(proc)
        took = time.monotonic() - sent
    assert code == 3, (code, out, err)
    match = first_line_ok(out, name, 3)
    assert f"interrupted by {signame}" in match.group("text"), out
    assert b"Traceback" not in out + err
    assert took < 2.0, took


def test_vvv_traceback_comes_after_the_first_line():
    port = free_port()
    connected = threading.Event()
    with RawServer(HOST, port, noticed_tarpit(connected)):
        proc = start("CALLOUT", args_for("CALLOUT", port, "-t", "15", "-vvv"))
        assert connected.wait(10)
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc)
    assert code == 3, (out, err)
    first_line_ok(out, "CALLOUT", 3)
    assert out.index(b"Traceback") > out.index(b"\n"), out
    assert b"Traceback" not in err


@pytest.mark.parametrize("name", ["CALLOUT", "NULLMAILER"])
def test_stdout_on_a_full_disk(name):
    with open("/dev/full", "wb") as full:
        code, out, err = finish(start(name, args_for(name, closed_port()), stdout=full))
    assert code == 3, (code, err)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    assert len(err.splitlines()) <= 1, err


@pytest.mark.parametrize("name", ["CALLOUT", "NULLMAILER"])
def test_stdout_on_a_closed_pipe(name):
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write is EPIPE
    try:
        proc = start(name, args_for(name, closed_port()), stdout=write_end)
    finally:
        os.close(write_end)
    code, out, err = finish(proc)
    assert code == 3, (code, err)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err


def test_a_normal_run_still_exits_with_its_state():
    """The guard changes nothing when stdout works: refused is CRITICAL (exit 2)."""
    code, out, err = finish(start("CALLOUT", args_for("CALLOUT", closed_port())))
    assert code == 2, (out, err)
    first_line_ok(out, "CALLOUT", 2)

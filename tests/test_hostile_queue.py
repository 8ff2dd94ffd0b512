"""--local against a queue it cannot read, or one too big to hold (issue 13, items 3
and 6): fake ``postqueue`` programs first in PATH that hang, are denied, or print a
million deferred messages; the plugin runs as a real process, its peak RSS measured
from outside (tests/support/hostile.py measure)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.hostile import FIRST_LINE, STATES, measure
from tests.support.processes import MILLION, POSTQUEUE_SCRIPTS, fake_tool, plugin_env
from tests.support.relay_servers import smtp_server, write
from tests.support.servers import DNSTestServer

HEAD4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
ZONE = {"example.com": [("MX", (10, "mx.example.com"))], "mx.example.com": [("A", "127.0.0.1")]}
MAIN_CF = (
    "compatibility_level = 3.6\nmyhostname = web1.example.com\nmydomain = example.com\n"
    "myorigin = $mydomain\ninet_interfaces = loopback-only\nmynetworks = 127.0.0.0/8\n"
)


@pytest.fixture(scope="module")
def receiver():
    """example.com's MX on loopback accepts postmaster: the origin part is OK."""
    with smtp_server(lambda phase, address: "") as (port, _handler), DNSTestServer(ZONE) as dns:
        yield [*dns.args, "-p", str(port)]


def postfix_host(root: Path) -> None:
    write(root, "/etc/postfix/main.cf", MAIN_CF)
    write(root, "/etc/postfix/master.cf", "smtp      inet  n       -       y       -       -       smtpd\n")
    row = "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
    write(root, "/proc/net/tcp", HEAD4 + row)


def local_run(tmp_path: Path, receiver: list[str], script: str, timeout: int, **env: str):
    postfix_host(tmp_path / "root")
    fake_tool(tmp_path / "bin", "postqueue", script)
    argv = ["-m", "check_nullmailer.plugin", "--local", "--root", str(tmp_path / "root"), "--mta", "postfix"]
    environment = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}", **env)
    return measure([sys.executable, *argv, *receiver, "-t", str(timeout)], 60, env=environment)


def state_of(out: str) -> int:
    match = FIRST_LINE.match(out.split("\n", 1)[0])
    assert match, out
    return STATES[match.group("state")]


@pytest.mark.parametrize(
    "case, code, words",
    [
        ("hangs", 1, "[warning] queue: could not read it, cannot tell whether mail is stuck"),
        ("denied", 3, "[unknown] queue: cannot read it"),  # closed to this user: what to grant
    ],
)
def test_an_unreadable_queue_is_never_ok(tmp_path, receiver, case, code, words):
    run = local_run(tmp_path, receiver, POSTQUEUE_SCRIPTS[case], timeout=4)
    assert run.code == code and state_of(run.stdout) == code, run
    assert words in run.stdout, run
    assert "[ok] envelope origin" in run.stdout, run  # the rest was seen, and said
    assert run.wall < 4 + 1.0, run.wall


def test_a_million_queued_messages_are_streamed_and_capped(tmp_path, receiver):
    run = local_run(tmp_path, receiver, MILLION, timeout=20)
    assert run.code == 2, run
    line = run.stdout.split("\n", 1)[0]
    assert "at least 100000 queued messages deferred by sender verify callouts" in line, line
    assert "at least 100000 messages, at least 100000 deferred" in run.stdout, run
    assert run.maxrss_kb < 64 * 1024, f"peak RSS {run.maxrss_kb} KiB"

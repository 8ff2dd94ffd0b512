"""--local when the surroundings are unlucky (issue 13, item 12, the --local parts): a
dead resolver must not eat the queue's share of the time, a configuration that will
expose Postfix on its next start is said, and an origin of ``localdomain`` still gets a
fix.  Real plugin processes on real configuration trees, postconf, DNS and SMTP on
loopback; fake ``postqueue`` programs first in PATH."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.hostile import FIRST_LINE, STATES, measure
from tests.support.processes import fake_tool, plugin_env, postqueue_listing
from tests.support.relay_servers import write
from tests.support.servers import DNSTestServer

HEAD4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
LOOPBACK_25 = "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"


class DeadResolver:
    """A UDP port on 127.0.0.1 that reads every DNS question and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._swallow, daemon=True)

    def _swallow(self) -> None:
        end = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                self.sock.recv(4096)
            except OSError:
                continue

    def __enter__(self) -> DeadResolver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def postfix_tree(root: Path, main_cf: str, listening: bool = True) -> None:
    write(root, "/etc/postfix/main.cf", "compatibility_level = 3.6\n" + main_cf)
    write(root, "/etc/postfix/master.cf", "smtp      inet  n       -       y       -       -       smtpd\n")
    write(root, "/proc/net/tcp", HEAD4 + (LOOPBACK_25 if listening else ""))


def local(tmp_path: Path, *args: str, lines: int = 0, delay: float = 0.0):
    fake_tool(tmp_path / "bin", "postqueue", postqueue_listing(lines, delay))
    env = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    argv = [sys.executable, "-m", "check_nullmailer.plugin", "--local", "--root", str(tmp_path / "root")]
    return measure([*argv, "--mta", "postfix", *args], 60, env=env)


def state_of(out: str) -> int:
    match = FIRST_LINE.match(out.split("\n", 1)[0])
    assert match, out
    return STATES[match.group("state")]


def test_a_dead_resolver_leaves_the_queue_its_share(tmp_path):
    postfix_tree(
        tmp_path / "root", "myhostname = web1.example.com\nmydomain = example.com\nmyorigin = $mydomain\n"
    )
    with DeadResolver() as dead:
        run = local(
            tmp_path, "--nameserver", "127.0.0.1", "--dns-port", str(dead.port), "-t", "4", lines=3, delay=0.5
        )
    assert "queue (postqueue -j): 3 messages, 3 deferred" in run.stdout, run
    assert "cannot tell whether postmaster@example.com passes callouts" in run.stdout, run
    # the callouts could not look (UNKNOWN) and 3 callout deferrals are CRITICAL: never OK
    assert run.code in (2, 3) and run.wall < 5.0, run


@pytest.mark.parametrize("allow", [False, True])
def test_inet_interfaces_all_with_postfix_stopped(tmp_path, allow):
    main_cf = (
        "myhostname = web1.example.com\nmydomain = example.com\nmyorigin = $mydomain\ninet_interfaces = all\n"
    )
    postfix_tree(tmp_path / "root", main_cf, listening=False)
    zone = {"example.com": [("MX", (10, "mx.example.com"))], "mx.example.com": [("A", "127.0.0.1")]}
    with DNSTestServer(zone) as dns:
        extra = ["--allow-listen"] if allow else []
        run = local(tmp_path, *dns.args, "-p", "9", "--origin", "example.com", "-t", "4", *extra)
    assert "use a real mail domain" not in run.stdout, run  # example.com exists: its MX only refused
    line = next(x for x in run.stdout.split("\n") if "exposure:" in x)
    if allow:
        assert line.startswith("[ok] exposure"), run
    else:
        assert line.startswith("[warning] exposure: not listening on 25, 465, 587 now, but Postfix"), run
        assert "will expose it on the next start" in line and "inet_interfaces = all" in line, run


def test_localdomain_still_gets_a_fix(tmp_path):
    postfix_tree(
        tmp_path / "root", "myhostname = web1.localdomain\nmydomain = localdomain\nmyorigin = $mydomain\n"
    )
    with DNSTestServer({"example.com": [("A", "192.0.2.1")]}) as dns:  # localdomain: NXDOMAIN
        run = local(tmp_path, *dns.args, "-t", "4")
    first = run.stdout.split("\n", 1)[0]
    assert state_of(run.stdout) == 2, run
    assert "Postfix myorigin = $mydomain = localdomain" in first, run
    assert "use a real mail domain whose MX accepts mail (localdomain is not one)" in run.stdout, run

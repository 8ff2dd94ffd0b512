"""Helpers for the hostile-server suite: run a plugin as a real process, judge its line,
and SMTP/DNS servers that misbehave on purpose (all on loopback).

Every server script here is bounded in count and time: it ends when the client goes
away or after a few seconds at most.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dnslib import DNSRecord
from dnslib.server import DNSHandler, DNSServer

from tests.support.servers import (
    DNSTestServer,
    ZoneResolver,
    _QuietLogger,
    free_port,
    read_command,
    scripted_smtp,
)

ROOT = Path(__file__).resolve().parents[2]  # the repository

# A plugin line as monitoring systems parse it: NAME STATE - text [| perfdata]
LABEL = r"(?:'[^'=]+'|[^ '=|]+)"
PERF_ITEM = rf"{LABEL}=-?[0-9.]+[a-zA-Z%]*(?:;[^ ;]*){{0,4}}"
FIRST_LINE = re.compile(
    rf"^(?P<name>CALLOUT|NULLMAILER) (?P<state>OK|WARNING|CRITICAL|UNKNOWN) - "
    rf"(?P<text>[^|\n]*?)(?: \| (?P<perf>{PERF_ITEM}(?: {PERF_ITEM})*))?$"
)
STATES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
MAX_RSS_KB = 64 * 1024  # a plugin run never needs more; unbounded buffering would


@dataclass
class ProcessRun:
    """One plugin process: exit code, output, wall time (s) and peak RSS (KiB)."""

    argv: list[str]
    code: int
    output: str
    stderr: str
    elapsed: float
    maxrss_kb: int

    @property
    def first_line(self) -> str:
        return self.output.split("\n", 1)[0]

    @property
    def perfdata(self) -> dict[str, str]:
        match = FIRST_LINE.match(self.first_line)
        items: dict[str, str] = {}
        if match and match.group("perf"):
            for item in re.findall(rf"({LABEL})=(\S+)", match.group("perf")):
                items[item[0].strip("'")] = item[1]
        return items

    def __str__(self) -> str:
        return (
            f"exit {self.code} in {self.elapsed:.2f} s, {self.maxrss_kb} KiB\n"
            f"{self.output}\nstderr: {self.stderr[-2000:]}"
        )


# Peak RSS of a child must not be measured with wait4() from a big parent: a forked
# child starts with the parent's RSS high-water mark, and exec keeps it in ru_maxrss.
# So a small interpreter (python -S) forks and execs the command, and reports the
# rusage of that grandchild: exit code, wall time (s), peak RSS (KiB), user+sys CPU (s).
SHIM = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - start
with open(report, "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {wall} {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime}")
"""


@dataclass
class Measured:
    code: int
    wall: float
    maxrss_kb: int
    cpu: float
    stdout: str
    stderr: str


def measure(
    argv: list[str], limit: float = 60.0, env: dict[str, str] | None = None, cwd: str | None = None
) -> Measured:
    """Run ``argv`` once through the shim; killed (whole process group) after ``limit`` s."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage"
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-c", SHIM, str(report), *argv],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            out.seek(0)
            err.seek(0)
            stdout = out.read(1_000_000).decode("utf-8", "replace")
            stderr = err.read(100_000).decode("utf-8", "replace")
        if not report.exists():
            raise RuntimeError(f"killed after {limit} s: {argv}\n{stdout}\n{stderr}")
        code, wall, rss, cpu = report.read_text().split()
    return Measured(int(code), float(wall), int(rss), float(cpu), stdout, stderr)


def run_plugin(module: str, args: list[str], limit: float = 20.0) -> ProcessRun:
    """Run ``python -m module args`` as a process and measure it."""
    argv = [sys.executable, "-m", module, *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    m = measure(argv, limit, env=env, cwd=str(ROOT))
    return ProcessRun(argv, m.code, m.stdout, m.stderr, m.wall, m.maxrss_kb)


def callout(*args: str, limit: float = 20.0) -> ProcessRun:
    return run_plugin("check_callout.plugin", list(args), limit)


def nullmailer(*args: str, limit: float = 20.0) -> ProcessRun:
    return run_plugin("check_nullmailer.plugin", list(args), limit)


def assert_well_formed(
    run: ProcessRun, name: str = "CALLOUT", timeout: float | None = None, max_rss_kb: int = MAX_RSS_KB
) -> re.Match[str]:
    """The contract with the monitoring system, whatever the other side did.

    Exit code 0-3 matching the state word; one well-formed first line with parseable
    perfdata; no control characters anywhere in the output; no traceback; finished
    within ``timeout`` + 1 s; peak RSS under ``max_rss_kb``.
    """
    assert run.code in (0, 1, 2, 3), run
    assert run.output.endswith("\n") and run.output.strip(), run
    match = FIRST_LINE.match(run.first_line)
    assert match, f"malformed first line: {run.first_line!r}\n{run}"
    assert match.group("name") == name, run
    assert STATES[match.group("state")] == run.code, run
    assert len(run.first_line) <= 1000, run
    for line in run.output.split("\n"):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", line), f"control character in {line!r}"
    assert "Traceback" not in run.output + run.stderr, run
    if match.group("perf"):
        for item in re.findall(rf"{LABEL}=(\S+)", match.group("perf")):
            value = item.split(";")[0]
            assert re.fullmatch(r"-?[0-9.]+[a-zA-Z%]*", value), f"bad perf value {item!r}"
            float(re.match(r"-?[0-9.]+", value).group(0))  # type: ignore[union-attr]
    if timeout is not None:
        assert run.elapsed <= timeout + 1.0, f"took {run.elapsed:.2f} s with -t {timeout}\n{run}"
    assert 0 < run.maxrss_kb <= max_rss_kb, f"peak RSS {run.maxrss_kb} KiB\n{run}"
    return match


# --------------------------------------------------------------------------- SMTP scripts
# Each returns a function for servers.RawServer: it gets one accepted connection.

EHLO = b"250-hostile.test\r\n250 PIPELINING\r\n"
# '|', CR, ANSI escapes (CSI, OSC with BEL), NUL, DEL and a C1 CSI: what no output may carry
NASTY_TEXT = b"evil|host \x1b[31mred\x1b[0m \x1b]0;title\x07 bell\x07 cr\rX nul\x00 del\x7f \xc2\x9b2J"
MAX_SCRIPT_TIME = 10.0


def _wait_for_close(conn: socket.socket, seconds: float = MAX_SCRIPT_TIME) -> None:
    """Say nothing more; return when the client goes away (bounded)."""
    conn.settimeout(0.5)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue


def tarpit() -> Callable[[socket.socket], None]:
    """Accept the connection and never send the banner."""
    return _wait_for_close


def drip(
    text: bytes = b"220 slow.test ESMTP welcome to the slowest server\r\n", interval: float = 1.0
) -> Callable[[socket.socket], None]:
    """Send the banner one byte per ``interval`` seconds."""

    def script(conn: socket.socket) -> None:
        conn.settimeout(MAX_SCRIPT_TIME)
        for byte in text[:60]:
            conn.sendall(bytes([byte]))
            time.sleep(interval)

    return script


def flood(prefix: bytes, chunk: bytes, total: int) -> Callable[[socket.socket], None]:
    """Send ``prefix`` then ``chunk`` repeatedly, up to ``total`` bytes or until the client leaves."""

    def script(conn: socket.socket) -> None:
        conn.settimeout(MAX_SCRIPT_TIME)
        conn.sendall(prefix)
        sent, end = 0, time.monotonic() + MAX_SCRIPT_TIME
        while sent < total and time.monotonic() < end:
            conn.sendall(chunk)
            sent += len(chunk)
        _wait_for_close(conn, 3)

    return script


def send_and_close(data: bytes) -> Callable[[socket.socket], None]:
    """Send ``data`` (e.g. half a reply) and hang up."""

    def script(conn: socket.socket) -> None:
        conn.settimeout(MAX_SCRIPT_TIME)
        conn.sendall(data)

    return script


def dialogue(
    banner: bytes = b"220 hostile.test ESMTP\r\n",
    replies: dict[bytes, bytes] | None = None,
    close_after: dict[bytes, bytes] | None = None,
    log: list[bytes] | None = None,
) -> Callable[[socket.socket], None]:
    """A scripted SMTP server that answers DATA too (it must never be asked);
    ``close_after`` sends the given bytes for a verb, then hangs up."""
    answers = {b"EHLO": EHLO, b"HELO": b"250 hostile.test\r\n", b"DATA": b"354 go ahead\r\n"}
    answers.update(replies or {})
    return scripted_smtp(banner, answers, log=log, close_after=close_after, timeout=MAX_SCRIPT_TIME)


def failing_starttls(log: list[bytes] | None = None) -> Callable[[socket.socket], None]:
    """Offers STARTTLS, says 220, then answers the TLS ClientHello with garbage.

    Without STARTTLS (the clear-text retry) it answers like a normal server.
    """
    ehlo = b"250-hostile.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n"

    def script(conn: socket.socket) -> None:
        conn.settimeout(MAX_SCRIPT_TIME)
        conn.sendall(b"220 hostile.test ESMTP\r\n")
        for _ in range(100):
            line = read_command(conn)
            if not line:
                return
            if log is not None:
                log.append(line)
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            if verb == b"STARTTLS":
                conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                conn.recv(4096)  # the ClientHello
                conn.sendall(b"this is not TLS at all\r\n" * 4)
                _wait_for_close(conn, 3)
                return
            reply = {b"EHLO": ehlo, b"QUIT": b"221 bye\r\n"}.get(verb, b"250 ok\r\n")
            conn.sendall(reply)
            if verb == b"QUIT":
                return

    return script


# --------------------------------------------------------------------------- DNS


class _TruncatingHandler(DNSHandler):
    """Over UDP, an answer bigger than a classic 512-byte message comes back empty with
    TC set and the question kept (as real servers do; dnslib's own truncation drops the
    question, which resolvers rightly ignore)."""

    def get_reply(self, data: bytes) -> bytes:
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        if reply is None:
            return b""
        packed = reply.pack()
        if self.protocol == "udp" and len(packed) > 512:
            short = request.reply()
            short.header.tc = 1
            return short.pack()
        return packed


class TruncatingDNSServer(DNSTestServer):
    """Like :class:`servers.DNSTestServer`, but UDP answers over 512 bytes are truncated.

    With ``tcp=False`` nothing listens on TCP, so the resolver's TCP retry is refused.
    """

    def __init__(self, zone: dict[str, object], tcp: bool = True) -> None:
        self.port = free_port()
        self.resolver = ZoneResolver(zone)
        logger = _QuietLogger()
        self.udp = DNSServer(
            self.resolver, port=self.port, address="127.0.0.1", logger=logger, handler=_TruncatingHandler
        )
        self.tcp = DNSServer(
            self.resolver,
            port=self.port,
            address="127.0.0.1",
            tcp=True,
            logger=logger,
            handler=_TruncatingHandler,
        )
        self.with_tcp = tcp

    def __enter__(self) -> TruncatingDNSServer:
        self.udp.start_thread()
        if self.with_tcp:
            self.tcp.start_thread()
        else:
            self.tcp.server.server_close()
        return self

    def __exit__(self, *exc: object) -> None:
        self.udp.server.shutdown()
        self.udp.server.server_close()
        if self.with_tcp:
            self.tcp.server.shutdown()
            self.tcp.server.server_close()


# --------------------------------------------------------------------------- namespaces


def netns_available() -> bool:
    """Can this process make a network namespace (root and iproute2)?"""
    if os.geteuid() != 0 or not Path("/usr/sbin/ip").exists() and not Path("/sbin/ip").exists():
        return False
    name = f"ccbench-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, timeout=10)
    if made.returncode != 0:
        return False
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return True


class Namespace:
    """A network namespace with only ``lo`` up: addresses off loopback are unroutable
    there, so a probe of a private address fails at once and sends nothing anywhere."""

    def __init__(self, tag: str) -> None:
        self.name = f"ccbench-{tag}-{os.getpid()}"

    def __enter__(self) -> Namespace:
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True, timeout=10)
        subprocess.run(
            ["ip", "-n", self.name, "link", "set", "lo", "up"], check=True, capture_output=True, timeout=10
        )
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)

    def run(self, argv: list[str], limit: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            capture_output=True,
            text=True,
            timeout=limit,
            cwd=str(ROOT),
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )


def private_scenario(address: str, extra: list[str]) -> dict[str, object]:
    """Inside a namespace: MX 10 at ``address`` (non-public), MX 20 on loopback accepting."""
    from tests.support.servers import RawServer

    port = free_port()
    zone = {
        "private.test": [("MX", (10, "mx1.private.test")), ("MX", (20, "mx2.private.test"))],
        "mx1.private.test": [("AAAA" if ":" in address else "A", address)],
        "mx2.private.test": [("A", "127.0.0.1")],
    }
    with RawServer("127.0.0.1", port, dialogue()), DNSTestServer(zone) as dns:
        run = callout(
            "-s",
            "alice@private.test",
            "-p",
            str(port),
            *dns.args,
            "-t",
            "3",
            "--connect-timeout",
            "1",
            "--helo",
            "monitor.test",
            *extra,
        )
    return run.__dict__


if __name__ == "__main__":  # python -m tests.support.hostile private ADDRESS [plugin args]: one JSON line
    import json

    if sys.argv[1] == "private":
        print(json.dumps(private_scenario(sys.argv[2], sys.argv[3:])))

"""A real Postfix in network namespaces of the test's own, and a client outside it.

- two network namespaces (``cchn-pfs-<pid>`` for the Postfix host, ``cchn-pfc-<pid>``
  for the outside client) joined by a veth pair: 198.51.100.1/24 and 2001:db8:51::1/64
  on the host, 198.51.100.2/24 and 2001:db8:51::2/64 on the client; nothing else is
  routed, so no packet leaves the machine;
- the Postfix host's mount namespace is held by one ``sleep`` process (started and
  stopped by its PID): in it a configuration directory of the test's own is bound over
  ``/etc/postfix`` and fresh tmpfs are mounted on the queue and data directories, so it
  is the default instance there and the machine's own Postfix files are untouched;
- :meth:`PostfixHost.start` / :meth:`PostfixHost.stop` run ``postfix start`` and end the
  master daemon by the PID in its pid file; :meth:`PostfixHost.plugin` runs
  ``check_nullmailer`` in the same namespaces; :meth:`PostfixHost.relay_attempt` asks the
  Postfix from the client namespace (EHLO, MAIL, RCPT to an outside domain, RSET, QUIT:
  never DATA).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.hostile import ROOT, ProcessRun
from tests.support.sandbox import _ip

SERVER_V4 = "198.51.100.1"
CLIENT_V4 = "198.51.100.2"
SERVER_V6 = "2001:db8:51::1"
CLIENT_V6 = "2001:db8:51::2"

# The services Postfix needs to start and to answer SMTP (chroot off: the namespace's
# own files are the ones to read).
MASTER_BASE = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_BASE = """\
compatibility_level = 3.6
myhostname = web1.example.test
mydestination = $myhostname, localhost
mynetworks = 127.0.0.0/8 [::1]/128
inet_protocols = all
alias_maps =
alias_database =
biff = no
smtpd_tls_security_level = none
smtpd_peername_lookup = no
maillog_file = /dev/stdout
"""

STEP = 10.0  # seconds for one command
DNS_PORT = 5353


def available() -> str:
    """Why a real Postfix cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("postfix", "postconf", "unshare", "nsenter"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"{tool} is not installed"
    if _ip() is None:
        return "iproute2 is not installed"
    return ""


class PostfixHost:
    """A Postfix host and an outside client, each in its own network namespace."""

    def __init__(self, tag: str = "pf") -> None:
        self.server = f"cchn-{tag}s-{os.getpid()}"
        self.client = f"cchn-{tag}c-{os.getpid()}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"cchn-{tag}-"))
        self.conf = self.dir / "postfix"
        self.holder: subprocess.Popen[bytes] | None = None
        self.dns: subprocess.Popen[bytes] | None = None
        self.master_pid: int | None = None
        self.args: list[str] = []  # plugin arguments of the host's own services (its DNS)

    # ------------------------------------------------------------------ set up, tear down

    def __enter__(self) -> PostfixHost:
        try:
            self._network()
            self._holder()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        for process in (self.dns, self.holder):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=STEP)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STEP)
        for name in (self.server, self.client):
            subprocess.run([_ip() or "ip", "netns", "del", name], capture_output=True, timeout=STEP)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, argv: list[str], limit: float = STEP) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, timeout=limit)

    def _network(self) -> None:
        ip = _ip() or "ip"
        for name in (self.server, self.client):
            self._run([ip, "netns", "add", name]).check_returncode()
            self._run([ip, "-n", name, "link", "set", "lo", "up"]).check_returncode()
        self._run(
            [ip, "-n", self.server, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns",
             self.client]
        ).check_returncode()  # fmt: skip
        for name, v4, v6 in ((self.server, SERVER_V4, SERVER_V6), (self.client, CLIENT_V4, CLIENT_V6)):
            self._run([ip, "-n", name, "addr", "add", f"{v4}/24", "dev", "eth0"]).check_returncode()
            self._run([ip, "-n", name, "addr", "add", f"{v6}/64", "dev", "eth0", "nodad"]).check_returncode()
            self._run([ip, "-n", name, "link", "set", "eth0", "up"]).check_returncode()

    def _holder(self) -> None:
        shutil.copytree("/etc/postfix", self.conf, symlinks=True)
        for name in ("main.cf", "master.cf"):
            (self.conf / name).unlink(missing_ok=True)
        (self.dir / "etc").mkdir()
        (self.dir / "etc" / "hostname").write_text("web1\n")
        (self.dir / "etc" / "mailname").write_text("web1.example.test\n")
        script = (
            'set -e; mount --bind "$1/postfix" /etc/postfix; '
            "mount -t tmpfs cchn /var/spool/postfix; mount -t tmpfs cchn /var/lib/postfix; "
            'mount --bind "$1/etc/mailname" /etc/mailname 2>/dev/null || true; '
            'touch "$1/ready"; exec sleep 900'
        )
        argv = [_ip() or "ip", "netns", "exec", self.server, "unshare", "--mount", "--propagation", "private",
                "sh", "-c", script, "sh", str(self.dir)]  # fmt: skip
        self.holder = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)  # fmt: skip
        limit = time.monotonic() + STEP
        while not (self.dir / "ready").exists():
            if self.holder.poll() is not None or time.monotonic() > limit:
                raise RuntimeError("the Postfix host's mount namespace did not come up")
            time.sleep(0.02)

    def serve_dns(self, zone: dict[str, list[tuple[str, object]]]) -> None:
        """An in-process DNS responder (tests/support/servers) on the host's loopback,
        port :data:`DNS_PORT`, for the plugin's callouts (``self.args`` then use it)."""
        ready = self.dir / "dns-ready"
        script = (
            "import json, sys, time\n"
            "from tests.support.servers import DNSTestServer\n"
            "zone = {k: [tuple(r) for r in v] for k, v in json.loads(sys.argv[1]).items()}\n"
            "server = DNSTestServer(zone, port=int(sys.argv[2])).__enter__()\n"
            "open(sys.argv[3], 'w').close()\n"
            "time.sleep(900)\n"
        )
        argv = [_ip() or "ip", "netns", "exec", self.server, sys.executable, "-c", script, json.dumps(zone),
                str(DNS_PORT), str(ready)]  # fmt: skip
        self.dns = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=str(ROOT),
                                    env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
        limit = time.monotonic() + STEP
        while not ready.exists():
            if self.dns.poll() is not None or time.monotonic() > limit:
                raise RuntimeError("the DNS responder did not come up")
            time.sleep(0.02)
        self.args = ["--nameserver", "127.0.0.1", "--dns-port", str(DNS_PORT)]

    # ------------------------------------------------------------------ inside the host

    def inside(self, argv: list[str], limit: float = STEP, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run ``argv`` in the Postfix host's network and mount namespaces."""
        assert self.holder is not None
        return subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-m", "-n", *argv],
            capture_output=True, text=True, timeout=limit, cwd=str(ROOT),
            env=env or dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip

    def configure(self, main_cf: str, master_cf: str) -> None:
        """Write main.cf (after the base settings) and master.cf (before the base services)."""
        (self.conf / "main.cf").write_text(MAIN_BASE + main_cf)
        (self.conf / "master.cf").write_text(master_cf + MASTER_BASE)
        # Postfix (3.7) waits while main.cf is younger than about two seconds, reading it
        # again every 0.3 s (a file being edited): files as old as a real host's
        past = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(self.conf / name, (past, past))

    def start(self) -> None:
        done = self.inside(["postfix", "start"], limit=30)
        if done.returncode != 0:
            raise RuntimeError(f"postfix start failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        pidfile = Path(f"/proc/{self.holder.pid}/root/var/spool/postfix/pid/master.pid")  # type: ignore[union-attr]
        limit = time.monotonic() + STEP
        while time.monotonic() < limit:
            try:
                self.master_pid = int(pidfile.read_text().split()[0])
                return
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        raise RuntimeError("the Postfix master wrote no pid file")

    def stop(self) -> None:
        """End the master daemon by its PID (its children end with it)."""
        pid, self.master_pid = self.master_pid, None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        limit = time.monotonic() + STEP
        while time.monotonic() < limit and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)

    def plugin(self, *args: str, limit: float = 30.0, postconf: bool = True) -> ProcessRun:
        """``check_nullmailer ARGS`` run on the Postfix host; ``postconf=False`` hides
        ``postconf`` from it (a private mount of /dev/null, not executable, over it), so
        that it reads the files itself."""
        argv = [sys.executable, "-m", "check_nullmailer.plugin", *args, *self.args]
        if not postconf:
            hide = (
                "for p in /usr/sbin/postconf /usr/bin/postconf; do "
                '[ -e "$p" ] && mount --bind /dev/null "$p"; done; '
                'exec "$@"'
            )
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide, "sh", *argv]
        t0 = time.monotonic()
        done = self.inside(argv, limit=limit)
        return ProcessRun(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - t0, 0)

    # ------------------------------------------------------------------ from outside

    def relay_attempt(self, port: int, address: str = SERVER_V4) -> dict[str, object]:
        """A relay attempt from the client namespace: what the real smtpd answered."""
        done = subprocess.run(
            [_ip() or "ip", "netns", "exec", self.client, sys.executable, "-m", "tests.support.relay_attempt",
             address, str(port)],
            capture_output=True, text=True, timeout=30, cwd=str(ROOT),
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"relay attempt failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return json.loads(lines[-1])

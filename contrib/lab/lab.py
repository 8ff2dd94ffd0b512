#!/usr/bin/env python3
"""A small network of real mail servers in network namespaces.

The lab is built from Debian packages (see install-packages.sh):

* every host is a network namespace ``cclab-<name>``; all of them hang on one
  bridge that itself lives in the namespace ``cclab-br``, so the host's own
  network is never touched;
* addresses come only from 192.0.2.0/24 and 2001:db8::/32, names end in ``.test``;
* ``cclab-dns`` runs dnsmasq with the lab zones; every namespace gets an
  ``/etc/netns/<ns>/resolv.conf`` (and ``hosts``) pointing at it;
* ``cclab-rx`` runs Exim 4 (unpacked privately) for ``rx.test`` with
  ``require verify = sender/callout`` in its RCPT ACL on port 25, and three more
  Exim daemons (each with its own spool, so its own callout cache) with
  ``callout=defer_ok``, ``callout=random`` and ``callout=postmaster`` on ports
  2525, 2526 and 2527;
* ``cclab-prx`` runs a Postfix receiver for ``prx.test`` with
  ``reject_unverified_sender`` (stock verification settings, TLS off);
* Postfix instances (``postfix -c DIR``): the MX hosts of the scenario domains
  (``cclab-mx``), the null mailer ``web1.good.test`` (``cclab-web1``), an open
  relay (``cclab-open``) and a closed relay (``cclab-closed``);
* a second open relay of another kind: Exim with ``relay_from_hosts = *``
  (``cclab-exrelay``);
* ``cclab-mon`` is the monitoring host: its address is in no relay's trusted
  networks.

Each Postfix instance keeps its configuration, queue and data directories
under the lab directory.  Postfix only accepts a non-default configuration
directory that the default instance lists in ``alternate_config_directories``;
the lab gives each Postfix namespace its own ``/etc/postfix`` through
``/etc/netns/<ns>/postfix`` (``ip netns exec`` bind-mounts it), so the host's
``/etc/postfix`` is neither read nor changed.

Used by ``contrib/lab/labctl`` (by hand) and by ``tests/lab`` (pytest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "cclab-"
LAB_DIR = Path(os.environ.get("CCLAB_DIR", "/var/tmp/cclab"))
EXIM_PREFIX = Path(os.environ.get("LAB_EXIM_PREFIX", "/opt/cclab/exim4"))
EXIM = EXIM_PREFIX / "usr/sbin/exim4"
NETNS_ETC = Path("/etc/netns")
NETNS_RUN = Path("/run/netns")
BRIDGE_NS = PREFIX + "br"
BRIDGE = "br0"
HERE = Path(__file__).resolve().parent

DNS_V4 = "192.0.2.53"
DNS_V6 = "2001:db8::53"
RX_V4 = "192.0.2.25"
PRX_V4 = "192.0.2.26"
MON_V4 = "192.0.2.99"

#: every deadline of the lab, in seconds
CMD_TIMEOUT = 30.0
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


@dataclass
class Node:
    name: str
    fqdn: str
    v4: list[str]
    v6: list[str] = field(default_factory=list)

    @property
    def ns(self) -> str:
        return PREFIX + self.name

    @property
    def dir(self) -> Path:
        return LAB_DIR / self.name


NODES = {
    n.name: n
    for n in [
        Node("dns", "ns.test", [DNS_V4], [DNS_V6]),
        Node("rx", "mx.rx.test", [RX_V4], ["2001:db8::25"]),
        Node("prx", "mx.prx.test", [PRX_V4], ["2001:db8::26"]),
        # one Postfix plays the MX hosts of several scenario domains
        Node(
            "mx",
            "mx.good.test",
            [
                "192.0.2.10",
                "192.0.2.12",
                "192.0.2.13",
                "192.0.2.14",
                "192.0.2.15",
                "192.0.2.16",
                "192.0.2.17",
                "192.0.2.18",
                "192.0.2.19",
                "192.0.2.20",
            ],
            ["2001:db8::10", "2001:db8::17"],
        ),
        Node("web1", "web1.good.test", ["192.0.2.21"], ["2001:db8::21"]),
        Node("open", "openrelay.test", ["192.0.2.31"], ["2001:db8::31"]),
        Node("closed", "closedrelay.test", ["192.0.2.32"], ["2001:db8::32"]),
        Node("exrelay", "eximrelay.test", ["192.0.2.33"], ["2001:db8::33"]),
        Node("mon", "mon.test", [MON_V4], ["2001:db8::99"]),
    ]
}

# ---------------------------------------------------------------- DNS zones
#: name -> addresses (A and AAAA)
HOST_RECORDS = {
    "ns.test": [DNS_V4, DNS_V6],
    "mx.rx.test": [RX_V4, "2001:db8::25"],
    "mx.prx.test": [PRX_V4, "2001:db8::26"],
    "mx.good.test": ["192.0.2.10", "2001:db8::10"],
    "mx1.backup.test": ["192.0.2.11"],  # no host has this address: down
    "mx2.backup.test": ["192.0.2.12"],
    "mx.tempfail.test": ["192.0.2.14"],
    "implicit.test": ["192.0.2.15"],
    "mx.nobounce.test": ["192.0.2.16"],
    "mx6.good.test": ["2001:db8::10"],  # IPv6 only
    "mx.split.test": ["192.0.2.17", "2001:db8::17"],
    "mx1.manymx.test": ["192.0.2.14"],  # answers 451 at RCPT
    "mx2.manymx.test": ["192.0.2.18"],  # answers 451 at RCPT
    "mx3.manymx.test": ["192.0.2.12"],  # accepts
    "mx.catchall.test": ["192.0.2.19"],
    "mx.rcptnobounce.test": ["192.0.2.20"],
    "mx.nopm.test": ["192.0.2.13"],
    "web1.good.test": ["192.0.2.21", "2001:db8::21"],
    "openrelay.test": ["192.0.2.31", "2001:db8::31"],
    "closedrelay.test": ["192.0.2.32", "2001:db8::32"],
    "eximrelay.test": ["192.0.2.33", "2001:db8::33"],
    "mon.test": [MON_V4, "2001:db8::99"],
}
#: (domain, exchange, preference)
MX_RECORDS = [
    ("rx.test", "mx.rx.test", 10),
    ("good.test", "mx.good.test", 10),
    ("backup.test", "mx1.backup.test", 10),
    ("backup.test", "mx2.backup.test", 20),
    ("tempfail.test", "mx.tempfail.test", 10),
    ("flaky.test", "mx.tempfail.test", 10),
    ("flaky.test", "mx2.backup.test", 20),
    ("noaddr.test", "mx.noaddr.test", 10),  # exchange without any address
    ("v6only.test", "mx6.good.test", 10),
    ("nobounce.test", "mx.nobounce.test", 10),
    ("split.test", "mx.split.test", 10),
    ("prx.test", "mx.prx.test", 10),
    ("manymx.test", "mx1.manymx.test", 10),
    ("manymx.test", "mx2.manymx.test", 20),
    ("manymx.test", "mx3.manymx.test", 30),
    ("catchall.test", "mx.catchall.test", 10),
    ("rcptnobounce.test", "mx.rcptnobounce.test", 10),
    ("nopm.test", "mx.nopm.test", 10),
]
NULL_MX = ["nullmx.test"]

#: local parts the scenario MX hosts know
KNOWN_USERS = ["root", "postmaster", "user", "alice", "www-data"]
#: domains the Postfix of cclab-mx is final destination for
MX_DOMAINS = [
    "good.test",
    "backup.test",
    "tempfail.test",
    "flaky.test",
    "implicit.test",
    "v6only.test",
    "nobounce.test",
    "split.test",
    "manymx.test",
    "catchall.test",
    "rcptnobounce.test",
    "nopm.test",
]


@dataclass(frozen=True)
class Scenario:
    """A sender domain set up for one situation, and what each receiver does by design.

    ``exim`` is the answer of Exim's bare ``callout`` (accept / defer / reject);
    ``others`` the answers of the other live receivers where they differ from their
    default (see ``designed``); alternatives are joined with ``|`` where the receiver
    itself picks at random.

    A Postfix receiver answers ``accept`` or ``unverified``: with the stock
    ``unverified_sender_reject_code = 450`` a bounced probe gets the same
    "unverified address" text as a deferred one (smtpd chooses the words by the
    class of the reply code, not by the probe's status; only a 5xx reject code
    gives "undeliverable address").  Only the probe's own reason, quoted after it,
    tells a 550 from a 451."""

    id: str
    sender: str
    what: str
    exim: str  # what Exim's callout does by design: accept / defer / reject
    others: dict = field(default_factory=dict, hash=False, compare=False)

    def designed(self, receiver: str) -> str:
        """What RECEIVER answers by design (``|`` between alternatives)."""
        if receiver in self.others:
            return self.others[receiver]
        if receiver == "postfix":
            return "accept" if self.exim == "accept" else "unverified"
        if receiver == "exim:defer_ok" and self.exim == "defer":
            return "accept"
        return self.exim


SCENARIOS = [
    Scenario("good-mx", "user@good.test", "MX accepts the user", "accept"),
    Scenario("seed", "root@web1.good.test", "no MX, implicit MX is the null mailer, port 25 closed", "defer"),
    Scenario("backup-mx", "user@backup.test", "primary MX unreachable, backup MX accepts", "accept"),
    Scenario("null-mx", "user@nullmx.test", "null MX (MX 0 .)", "reject"),
    Scenario("unknown-user", "nosuchuser@good.test", "MX answers 550 for the local part", "reject"),
    Scenario("tempfail", "user@tempfail.test", "only MX answers 451 at RCPT", "defer"),
    Scenario("flaky-primary", "user@flaky.test", "primary 451 at RCPT, backup accepts", "accept"),
    Scenario("implicit-mx", "user@implicit.test", "no MX, implicit MX accepts", "accept"),
    Scenario("nxdomain", "user@nxdomain.test", "domain does not exist", "reject"),
    Scenario("mx-no-address", "user@noaddr.test", "MX host has no address", "reject"),
    Scenario("ipv6-only-mx", "user@v6only.test", "MX host has only an IPv6 address, accepts", "accept"),
    # Postfix's probe does not use the null sender (double-bounce@its own name)
    Scenario(
        "null-sender-refused",
        "user@nobounce.test",
        "MX answers 550 to MAIL FROM:<>",
        "reject",
        {"postfix": "accept"},
    ),
    # Postfix orders the addresses of a host at random (smtp_address_preference = any)
    Scenario(
        "dual-stack-split",
        "user@split.test",
        "one MX host: its IPv6 address accepts, its IPv4 address answers 550",
        "accept",
        {"postfix": "accept|unverified"},
    ),
    # Postfix gives up after smtp_mx_session_limit (2) SMTP sessions
    Scenario(
        "many-deferring-mx",
        "user@manymx.test",
        "MX 10 and MX 20 answer 451 at RCPT, MX 30 accepts",
        "accept",
        {"postfix": "unverified"},
    ),
    Scenario(
        "bounce-refused-at-rcpt",
        "user@rcptnobounce.test",
        "MX accepts MAIL FROM:<> but answers 550 to RCPT from the null sender",
        "reject",
        {"postfix": "accept"},
    ),
    Scenario("catch-all", "anyone@catchall.test", "MX accepts every local part", "accept"),
    # callout=random asks a random local part first: accepted, so the address is not asked
    Scenario(
        "catch-all-disabled",
        "disabled@catchall.test",
        "MX accepts every local part but this one (550)",
        "reject",
        {"exim:random": "accept"},
    ),
    Scenario(
        "no-postmaster",
        "user@nopm.test",
        "MX accepts the user but answers 550 for postmaster@",
        "accept",
        {"exim:postmaster": "reject"},
    ),
]


@dataclass(frozen=True)
class Receiver:
    """A live receiver of the lab: where to ask it, and for which recipient."""

    name: str
    host: str
    port: int
    rcpt: str
    poll: bool = False  # ask again while the answer is "verification in progress"


#: the live receivers, in the order of the table
RECEIVERS = [
    Receiver("exim", RX_V4, 25, "user@rx.test"),
    Receiver("exim:defer_ok", RX_V4, 2525, "user@rx.test"),
    Receiver("exim:random", RX_V4, 2526, "user@rx.test"),
    Receiver("exim:postmaster", RX_V4, 2527, "user@rx.test"),
    Receiver("postfix", PRX_V4, 25, "user@prx.test", poll=True),
]
RECEIVER = {r.name: r for r in RECEIVERS}
#: the Exim daemons of cclab-rx: variant -> (port, callout options)
EXIM_VARIANTS = {
    "exim": (25, ""),
    "exim:defer_ok": (2525, "defer_ok"),
    "exim:random": (2526, "random"),
    "exim:postmaster": (2527, "postmaster"),
}

#: the nodes that run a Postfix instance
POSTFIX_NODES = ("mx", "prx", "web1", "open", "closed")

#: the relays of the battery: node -> open?
RELAYS = {"open": True, "closed": False, "exrelay": True}


# ---------------------------------------------------------------- helpers
class LabError(RuntimeError):
    pass


def sh(
    *argv: str,
    timeout: float = CMD_TIMEOUT,
    check: bool = True,
    input: str | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run a command (bounded), capture its output."""
    try:
        cp = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timeout after {timeout}s: {' '.join(argv)}") from exc
    if check and cp.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {cp.returncode}: {cp.stderr.strip() or cp.stdout.strip()}")
    return cp


def nsrun(node: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    """Run a command inside the namespace of a lab node."""
    return sh("ip", "netns", "exec", PREFIX + node, *argv, **kw)


def missing_prerequisites() -> list[str]:
    """What keeps the lab from running here (empty list: nothing)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("needs root")
    for tool in ("ip", "postfix", "postconf", "postqueue", "dnsmasq"):
        if shutil.which(tool) is None:
            missing.append(f"{tool} not installed")
    if not os.access(EXIM, os.X_OK):
        missing.append(f"Exim not unpacked at {EXIM_PREFIX}")
    try:
        import pwd

        pwd.getpwnam("Debian-exim")
        pwd.getpwnam("postfix")
    except (KeyError, ImportError):
        missing.append("users Debian-exim/postfix missing")
    if any(m != "needs root" for m in missing):
        missing.append("(run contrib/lab/install-packages.sh as root)")
    return missing


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pids(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the given PIDs, then SIGKILL whatever is left at the deadline."""
    pids = [p for p in pids if p > 1 and p != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def lab_namespaces() -> list[str]:
    cp = sh("ip", "netns", "list", check=False)
    names = [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def ns_pids(ns: str) -> list[int]:
    cp = sh("ip", "netns", "pids", ns, check=False)
    return [int(x) for x in cp.stdout.split() if x.isdigit()]


LOCK_FILE = Path(os.environ.get("CCLAB_LOCK", "/run/cclab.lock"))


class LabLock:
    """An exclusive lock on the lab (one user at a time), taken with a deadline."""

    def __init__(self, timeout: float = 0.0):
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> LabLock:
        import fcntl

        self.fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise LabError(f"the lab is in use by another run ({LOCK_FILE})") from None
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


# ---------------------------------------------------------------- teardown
def down(quiet: bool = True) -> None:
    """Tear the lab down; also cleans what a crashed run left behind."""
    # polite stops first (Postfix flushes its state), all bounded
    for name in POSTFIX_NODES:
        conf = NODES[name].dir / "postfix"
        if (conf / "main.cf").exists() and (NETNS_RUN / NODES[name].ns).exists():
            nsrun(name, "postfix", "-c", str(conf), "stop", check=False, timeout=15)
    pidfiles = [NODES["dns"].dir / "dnsmasq.pid", NODES["exrelay"].dir / "exim.pid"]
    pidfiles += [exim_dir(v) / "exim.pid" for v in EXIM_VARIANTS]
    stop_pids([p for p in map(read_pid, pidfiles) if p])
    # then anything still living in a lab namespace, by PID
    for ns in lab_namespaces():
        stop_pids(ns_pids(ns))
    for ns in lab_namespaces():
        sh("ip", "netns", "delete", ns, check=False)
    if NETNS_ETC.is_dir():
        for d in NETNS_ETC.glob(PREFIX + "*"):
            shutil.rmtree(d, ignore_errors=True)
    if not quiet:
        print("lab down")


# ---------------------------------------------------------------- network
RESOLV_CONF = f"nameserver {DNS_V4}\nsearch test\noptions timeout:2 attempts:2\n"


def build_network() -> None:
    sh("ip", "netns", "add", BRIDGE_NS)
    write(NETNS_ETC / BRIDGE_NS / "resolv.conf", RESOLV_CONF)
    sh("ip", "-n", BRIDGE_NS, "link", "set", "lo", "up")
    sh("ip", "-n", BRIDGE_NS, "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "-n", BRIDGE_NS, "link", "set", BRIDGE, "up")
    for node in NODES.values():
        ns = node.ns
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        peer = "v-" + node.name
        sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", BRIDGE_NS)
        sh("ip", "-n", BRIDGE_NS, "link", "set", peer, "master", BRIDGE)
        sh("ip", "-n", BRIDGE_NS, "link", "set", peer, "up")
        for a in node.v4:
            sh("ip", "-n", ns, "addr", "add", a + "/24", "dev", "eth0")
        for a in node.v6:
            sh("ip", "-n", ns, "addr", "add", a + "/64", "dev", "eth0", "nodad")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        etc = NETNS_ETC / ns
        write(etc / "resolv.conf", RESOLV_CONF)
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost"]
        for a in HOST_RECORDS.get(node.fqdn, node.v4[:1]):
            lines.append(f"{a}\t{node.fqdn} {node.fqdn.split('.')[0]}")
        write(etc / "hosts", "\n".join(lines) + "\n")


# ---------------------------------------------------------------- dnsmasq
def dnsmasq_conf() -> str:
    d = NODES["dns"].dir
    out = [
        "# lab DNS: authoritative answers for .test only, nothing forwarded",
        "no-resolv",
        "no-hosts",
        "no-poll",
        "bind-interfaces",
        f"listen-address={DNS_V4}",
        f"listen-address={DNS_V6}",
        "local=/test/",
        "domain-needed",
        "user=root",
        "group=root",
        f"pid-file={d / 'dnsmasq.pid'}",
        f"log-facility={d / 'dnsmasq.log'}",
        "log-queries",
        "cache-size=0",
    ]
    for name, addrs in HOST_RECORDS.items():
        out.append(f"host-record={name},{','.join(addrs)}")
    for dom, exch, pref in MX_RECORDS:
        out.append(f"mx-host={dom},{exch},{pref}")
    for dom in NULL_MX:
        out.append(f"dns-rr={dom},15,000000")  # preference 0, exchange "."
    return "\n".join(out) + "\n"


def start_dns() -> None:
    d = NODES["dns"].dir
    d.mkdir(parents=True, exist_ok=True)
    write(d / "dnsmasq.conf", dnsmasq_conf())
    nsrun("dns", "dnsmasq", f"--conf-file={d / 'dnsmasq.conf'}")


# ---------------------------------------------------------------- Postfix
MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

#: files of the package's meta directory that every namespace's /etc/postfix needs
POSTFIX_META = [
    ("/etc/postfix/postfix-files", "postfix-files"),
    ("/etc/postfix/post-install", "post-install"),
    ("/etc/postfix/postfix-script", "postfix-script"),
    ("/usr/share/postfix/dynamicmaps.cf", "dynamicmaps.cf"),
    ("/usr/share/postfix/makedefs.out", "makedefs.out"),
]


def postfix_dir(name: str) -> Path:
    return NODES[name].dir / "postfix"


def setup_postfix(
    name: str, main: dict[str, str], listeners: list[str], extra_files: dict[str, str] | None = None
) -> Path:
    node = NODES[name]
    conf = postfix_dir(name)
    conf.mkdir(parents=True, exist_ok=True)
    (node.dir / "spool").mkdir(exist_ok=True)
    data = node.dir / "data"
    data.mkdir(exist_ok=True)
    shutil.chown(data, "postfix", "postfix")
    base = {
        "compatibility_level": "3.6",
        "queue_directory": str(node.dir / "spool"),
        "data_directory": str(data),
        "maillog_file": str(node.dir / "maillog"),
        "myhostname": node.fqdn,
        "inet_protocols": "all",
        "alias_maps": "",
        "alias_database": "",
        "biff": "no",
        "smtpd_banner": "$myhostname ESMTP $mail_name",
        "mynetworks": "127.0.0.0/8 [::1]/128",
    }
    base.update(main)
    write(conf / "main.cf", "".join(f"{k} = {v}\n" for k, v in base.items()))
    write(conf / "master.cf", MASTER_CF + "".join(line + "\n" for line in listeners))
    for fname, text in (extra_files or {}).items():
        write(conf / fname, text)
    # the namespace's own default instance: only names the lab's instance
    etc = NETNS_ETC / node.ns / "postfix"
    etc.mkdir(parents=True, exist_ok=True)
    for src, dst in POSTFIX_META:
        if os.path.exists(src):
            shutil.copy2(src, etc / dst)
    for sub in ("postfix-files.d", "dynamicmaps.cf.d"):
        (etc / sub).mkdir(exist_ok=True)
    write(
        etc / "main.cf",
        "# default instance of this lab namespace: not run, it only allows the other\n"
        f"compatibility_level = 3.6\nalternate_config_directories = {conf}\n",
    )
    write(etc / "master.cf", MASTER_CF)
    return conf


def smtpd_line(addr: str, *opts: str) -> str:
    listen = f"[{addr}]:smtp" if ":" in addr else f"{addr}:smtp"
    line = f"{listen} inet n - n - - smtpd"
    for o in opts:
        line += f"\n  -o {o}"
    return line


def configure_postfixes() -> None:
    users = ", ".join(f"{u}=ok" for u in KNOWN_USERS)
    # MX hosts of the scenario domains
    setup_postfix(
        "mx",
        {
            "mydestination": ", ".join(MX_DOMAINS + ["localhost"]),
            "local_recipient_maps": f"inline:{{ {users} }}",
            "defer_transports": "local, smtp, relay",  # nothing is ever delivered here
            "inet_interfaces": "all",
            "tempfail_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/tempfail",
            "nobounce_restrictions": f"check_sender_access regexp:{postfix_dir('mx')}/nobounce",
            "reject_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/rejectall",
            "nopostmaster_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/nopostmaster",
            "catchall_restrictions": f"check_recipient_access regexp:{postfix_dir('mx')}/disabled",
        },
        [
            smtpd_line("192.0.2.10"),
            smtpd_line("2001:db8::10"),
            smtpd_line("192.0.2.12"),
            smtpd_line("192.0.2.14", "smtpd_recipient_restrictions=$tempfail_restrictions"),
            smtpd_line("192.0.2.15"),
            smtpd_line(
                "192.0.2.16", "smtpd_delay_reject=no", "smtpd_sender_restrictions=$nobounce_restrictions"
            ),
            smtpd_line("192.0.2.17", "smtpd_recipient_restrictions=$reject_restrictions"),
            smtpd_line("2001:db8::17"),
            smtpd_line("192.0.2.13", "smtpd_recipient_restrictions=$nopostmaster_restrictions"),
            smtpd_line("192.0.2.18", "smtpd_recipient_restrictions=$tempfail_restrictions"),
            # a catch-all: no recipient table, one disabled mailbox
            smtpd_line(
                "192.0.2.19", "local_recipient_maps=", "smtpd_recipient_restrictions=$catchall_restrictions"
            ),
            # refuses the null sender, but (smtpd_delay_reject = yes) only at RCPT
            smtpd_line("192.0.2.20", "smtpd_sender_restrictions=$nobounce_restrictions"),
        ],
        {
            "rejectall": "/./ 550 5.1.1 No such user here\n",
            "tempfail": "/./ 451 4.3.0 Temporary lookup failure, try again later\n",
            "nobounce": "/^<>$/ 550 5.7.1 Bounces are not accepted here\n",
            "nopostmaster": "/^postmaster@/ 550 5.1.1 No postmaster here\n",
            "disabled": "/^disabled@/ 550 5.2.1 Mailbox disabled\n",
        },
    )
    # the Postfix receiver: reject_unverified_sender with the stock verification
    # settings; its smtp(8) client gets callout-like timeouts and no TLS
    setup_postfix(
        "prx",
        {
            "mydestination": "prx.test, localhost",
            "local_recipient_maps": f"inline:{{ {users} }}",
            "defer_transports": "local",  # the probes go out by smtp; nothing is delivered
            "inet_interfaces": "all",
            "smtpd_recipient_restrictions": "reject_unauth_destination, reject_unverified_sender",
            "address_verify_map": "btree:$data_directory/verify_cache",  # empty each lab run
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "smtp_connect_timeout": "10s",
            "smtp_helo_timeout": "30s",
            "smtp_mail_timeout": "30s",
            "smtp_rcpt_timeout": "30s",
        },
        ["smtp inet n - n - - smtpd"],
    )
    # the null mailer: stock myorigin ($myhostname), port 25 only on loopback
    setup_postfix(
        "web1",
        {
            "inet_interfaces": "loopback-only",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "relayhost": "",
        },
        ["smtp inet n - n - - smtpd"],
    )
    # relays: anything they accepted would stay in their queue
    for name, nets in (("open", "0.0.0.0/0 [::]/0"), ("closed", "127.0.0.0/8 [::1]/128")):
        setup_postfix(
            name,
            {
                "inet_interfaces": "all",
                "mynetworks": nets,
                "mydestination": "$myhostname, localhost",
                "defer_transports": "smtp, relay, local",
            },
            ["smtp inet n - n - - smtpd"],
        )


def start_postfix(name: str) -> None:
    nsrun(name, "postfix", "-c", str(postfix_dir(name)), "start", timeout=60)


def postfix_queue(name: str) -> list[dict]:
    cp = nsrun(name, "postqueue", "-c", str(postfix_dir(name)), "-j")
    return [json.loads(line) for line in cp.stdout.splitlines() if line.strip()]


def postconf_set(name: str, *settings: str) -> None:
    nsrun(name, "postconf", "-c", str(postfix_dir(name)), "-e", *settings)


# ---------------------------------------------------------------- Exim
def exim_dir(variant: str) -> Path:
    """The directory of one Exim receiver daemon of cclab-rx (the bare one: the node's)."""
    if variant == "exim":
        return NODES["rx"].dir
    return NODES["rx"].dir / variant.replace(":", "-")


def exim_conf(name: str, relay: bool, variant: str = "exim") -> str:
    node = NODES[name]
    d = exim_dir(variant) if name == "rx" else node.dir
    port, options = EXIM_VARIANTS[variant]
    callout = f"callout={options}" if options else "callout"
    ifaces = " ; ".join(node.v4 + node.v6)
    common = f"""\
primary_hostname = {node.fqdn}
exim_path = {EXIM}
spool_directory = {d / "spool"}
log_file_path = {d / "log"}/%slog
pid_file_path = {d / "exim.pid"}
local_interfaces = <; {ifaces}
daemon_smtp_ports = {port}
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
keep_environment =
never_users = root
log_selector = +smtp_connection +received_recipients +smtp_protocol_error
"""
    if relay:
        return (
            common
            + f"""\
# an open relay: every host may relay; nothing is ever delivered from here
domainlist local_domains = {node.fqdn}
hostlist relay_from_hosts = *
queue_only = true
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept hosts = +relay_from_hosts
  accept domains = +local_domains

begin routers
nowhere:
  driver = redirect
  data = :blackhole:

begin retry
* * F,2h,15m
"""
        )
    return (
        common
        + f"""\
domainlist local_domains = rx.test
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept hosts = :
  deny    domains = ! +local_domains
          message = relay not permitted
  require verify = recipient
  require verify = sender/{callout}
  accept

begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  ignore_target_hosts = 0.0.0.0 : 127.0.0.0/8
  no_more

mailbox:
  driver = accept
  domains = +local_domains
  local_parts = {" : ".join(KNOWN_USERS)}
  transport = mailbox

begin transports
remote_smtp:
  driver = smtp

mailbox:
  driver = appendfile
  file = {d / "mail"}/inbox
  envelope_to_add
  return_path_add
  user = Debian-exim
  group = Debian-exim
  mode = 0600

begin retry
* * F,2h,15m; G,16h,1h,1.5; F,4d,6h
"""
    )


def exim_config_path(name: str, variant: str = "exim") -> Path:
    d = exim_dir(variant) if name == "rx" else NODES[name].dir
    return d / "exim4.conf"


def setup_exim(name: str, relay: bool, variant: str = "exim") -> None:
    """One Exim daemon; each receiver variant has its own spool (its own callout cache)."""
    d = exim_dir(variant) if name == "rx" else NODES[name].dir
    for sub in ("spool", "log", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(d / sub, "Debian-exim", "Debian-exim")
        (d / sub).chmod(0o750)
    write(exim_config_path(name, variant), exim_conf(name, relay, variant), mode=0o644)


def start_exim(name: str, variant: str = "exim") -> None:
    conf = exim_config_path(name, variant)
    nsrun(name, str(EXIM), "-C", str(conf), "-bd", "-oP", str(conf.parent / "exim.pid"))


def exim(name: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return nsrun(name, str(EXIM), "-C", str(exim_config_path(name)), *args, **kw)


def exim_queue_count(name: str) -> int:
    return int(exim(name, "-bpc").stdout.strip() or "0")


def exim_mainlog(name: str) -> str:
    try:
        return (NODES[name].dir / "log" / "mainlog").read_text(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- readiness
def _dns_query_packet(name: str, qtype: int = 1) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + q + qtype.to_bytes(2, "big") + b"\x00\x01"


def wait_ready(targets: list[str], timeout: float = READY_TIMEOUT) -> list[str]:
    """Wait (bounded) until each ``dns:IP`` answers or ``IP:PORT``/``[IP6]:PORT`` connects.

    Meant to run inside a namespace; returns the targets still not ready."""
    deadline = time.monotonic() + timeout
    pending = list(targets)
    while pending and time.monotonic() < deadline:
        for t in list(pending):
            if t.startswith("dns:"):
                ip = t[4:]
                fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
                with socket.socket(fam, socket.SOCK_DGRAM) as s:
                    s.settimeout(0.3)
                    try:
                        s.sendto(_dns_query_packet("mx.rx.test"), (ip, 53))
                        if s.recv(512):
                            pending.remove(t)
                    except OSError:
                        pass
                continue
            host, _, port = t.rpartition(":")
            host = host.strip("[]")
            try:
                with socket.create_connection((host, int(port)), timeout=0.5):
                    pending.remove(t)
            except OSError:
                pass
        if pending:
            time.sleep(0.1)
    return pending


def wait_ready_in(node: str, targets: list[str], timeout: float = READY_TIMEOUT) -> None:
    cp = nsrun(
        node,
        sys.executable,
        str(Path(__file__).resolve()),
        "wait-ready",
        "--timeout",
        str(timeout),
        *targets,
        timeout=timeout + 10,
        check=False,
    )
    if cp.returncode != 0:
        raise LabError(f"not ready after {timeout}s from {node}: {cp.stdout.strip()} {cp.stderr.strip()}")


# ---------------------------------------------------------------- SMTP ask
def smtp_ask(
    host: str, sender: str, rcpt: str, port: int = 25, helo: str = "mon.test", timeout: float = 60.0
) -> dict:
    """One real SMTP dialogue: EHLO, MAIL FROM:<sender>, RCPT TO:<rcpt>, QUIT.

    Returns the codes and the receiver action they mean (accept/defer/reject)."""
    import smtplib

    out: dict = {"host": host, "sender": sender, "rcpt": rcpt}
    t0 = time.monotonic()
    s = smtplib.SMTP(timeout=timeout, local_hostname=helo)
    try:
        code, msg = s.connect(host, port)
        out["greeting"] = [code, msg.decode(errors="replace")]
        s.ehlo()
        code, msg = s.mail(sender)
        out["mail"] = [code, msg.decode(errors="replace")]
        if code < 400:
            code, msg = s.rcpt(rcpt)
            out["rcpt_reply"] = [code, msg.decode(errors="replace")]
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    finally:
        s.close()
    out["seconds"] = round(time.monotonic() - t0, 3)
    out["action"] = {2: "accept", 4: "defer", 5: "reject"}.get(code // 100, "unknown")
    return out


def ask(host: str, sender: str, rcpt: str, node: str = "mon") -> dict:
    """One live SMTP dialogue with HOST, from a lab namespace (monitoring by default)."""
    cp = nsrun(
        node,
        sys.executable,
        str(Path(__file__).resolve()),
        "smtp-ask",
        "--host",
        host,
        "--sender",
        sender,
        "--rcpt",
        rcpt,
        timeout=90,
    )
    return json.loads(cp.stdout)


def ask_exim(sender: str, rcpt: str = "user@rx.test", node: str = "mon") -> dict:
    """Ask the Exim receiver live what it answers for SENDER."""
    return ask(RX_V4, sender, rcpt, node)


#: asking a Postfix receiver again while its probe is running: at most this many
#: dialogues, this far apart, within this many seconds in all
POLL_TRIES = 8
POLL_DELAY = 2.0
POLL_BUDGET = 60.0
IN_PROGRESS = "Address verification in progress"


def poll_ask(receiver: Receiver, sender: str) -> dict:
    """Ask RECEIVER about SENDER; a polling receiver is asked again, each time on a new
    connection, until its reply is no longer "verification in progress" (bounded)."""
    t0 = time.monotonic()
    early: list[list] = []
    for attempt in range(1, POLL_TRIES + 1):
        try:
            out = smtp_ask(
                receiver.host,
                sender,
                receiver.rcpt,
                port=receiver.port,
                timeout=max(1.0, POLL_BUDGET - (time.monotonic() - t0)),
            )
        except (OSError, EOFError) as exc:  # smtplib's errors are OSErrors
            out = {"error": f"{type(exc).__name__}: {exc}", "action": "unknown"}
        reply = out.get("rcpt_reply") or out.get("mail") or [0, ""]
        if not (receiver.poll and IN_PROGRESS in reply[1]):
            break
        early.append(reply)
        if attempt == POLL_TRIES or time.monotonic() - t0 + POLL_DELAY > POLL_BUDGET:
            break
        time.sleep(POLL_DELAY)
    out.update(
        receiver=receiver.name, tries=attempt, in_progress=early, seconds=round(time.monotonic() - t0, 3)
    )
    out["code"], out["text"] = reply
    out["answer"] = answer_of(receiver.name, reply[0], reply[1])
    return out


def answer_of(receiver: str, code: int, text: str) -> str:
    """What a reply means: accept/defer/reject; a Postfix receiver's 4xx is told apart by
    its text: ``unverified`` (the probe was deferred), ``undeliverable`` (it bounced),
    ``in progress`` (no result yet)."""
    if receiver == "postfix" and code // 100 != 2:
        for word in ("undeliverable", "unverified"):
            if f"{word} address" in text:
                return word
        if IN_PROGRESS in text:
            return "in progress"
    return {2: "accept", 4: "defer", 5: "reject"}.get(code // 100, "unknown")


def ask_receivers(questions: list[tuple[str, str]], node: str = "mon") -> list[dict]:
    """Ask live receivers about senders, all at once, from a lab namespace.

    QUESTIONS are (receiver name, sender) pairs; the answers come back in that order."""
    budget = POLL_BUDGET + 30
    cp = nsrun(
        node,
        sys.executable,
        str(Path(__file__).resolve()),
        "ask-many",
        input=json.dumps(questions),
        timeout=budget + 10,
    )
    return json.loads(cp.stdout)


def _ask_many(questions: list[tuple[str, str]]) -> list[dict]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(poll_ask, RECEIVER[name], sender) for name, sender in questions]
        return [f.result(timeout=POLL_BUDGET + 30) for f in futures]


# ---------------------------------------------------------------- the seed story
SEED_RCPT = "user@rx.test"


def wait_until(what: str, predicate, timeout: float = 30.0, step: float = 0.2):
    """Poll PREDICATE until it returns something true; LabError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise LabError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(step)


def web1(*argv: str, **kw) -> subprocess.CompletedProcess:
    """Run a Postfix command of the null mailer's instance (``-c DIR`` added)."""
    tool, rest = argv[0], list(argv[1:])
    flag = "-C" if tool == "sendmail" else "-c"
    return nsrun("web1", tool, flag, str(postfix_dir("web1")), *rest, **kw)


def seed_reset() -> None:
    """The null mailer as shipped: stock myorigin, no masquerading, empty queue."""
    web1("postconf", "-X", "myorigin", "masquerade_domains")
    web1("postfix", "reload")
    web1("postsuper", "-d", "ALL", check=False)


def seed_send(subject: str = "lab seed story") -> list[dict]:
    """Submit a message with sendmail on the null mailer; wait until it is deferred."""
    web1("sendmail", SEED_RCPT, input=f"Subject: {subject}\n\nsent from web1.good.test\n")
    return wait_until(
        "the message to be deferred",
        lambda: [
            m
            for m in postfix_queue("web1")
            if m["queue_name"] == "deferred" and m["recipients"][0].get("delay_reason")
        ],
    )


def seed_fix() -> None:
    """myorigin = $mydomain; release the queued message and wait until it is gone.

    Mail already queued keeps its envelope sender, so the queued message is also
    masqueraded (masquerade_domains = $mydomain) while it is requeued."""
    web1("postconf", "-e", "myorigin = $mydomain", "masquerade_domains = $mydomain")
    web1("postfix", "reload")
    web1("postsuper", "-r", "ALL")
    web1("postkick", "public", "pickup", "W")
    web1("postqueue", "-f")
    wait_until("the queue of web1.good.test to drain", lambda: not postfix_queue("web1"))


REPO = HERE.parents[1]


def plugin_argv(node: str, package: str, *args: str) -> list[str]:
    """The command line that runs one of the plugins inside a lab namespace."""
    return ["ip", "netns", "exec", PREFIX + node, sys.executable, "-m", f"{package}.plugin", *args]


def plugin_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_plugin(node: str, package: str, *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            plugin_argv(node, package, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=plugin_env(),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{package} in {node} still running after {timeout}s") from exc


def seed_demo() -> None:
    """Play the seed story and print what the real servers and the checks say."""

    def say(text: str) -> None:
        print(text, flush=True)

    def check(node: str, package: str, *args: str) -> None:
        cp = run_plugin(node, package, *args)
        say(f"[{node}]$ {package} {' '.join(args)}")
        say(cp.stdout.rstrip() + (("\n" + cp.stderr.rstrip()) if cp.stderr.strip() else ""))
        say(f"(exit {cp.returncode})\n")

    def exim_lines(since: int, pattern: str) -> None:
        for line in exim_mainlog("rx")[since:].splitlines():
            if pattern in line:
                say("  " + line)

    conf = str(postfix_dir("web1"))
    seed_reset()
    mark = len(exim_mainlog("rx"))
    say(f"[web1]$ echo 'Subject: lab seed story' | sendmail -C {conf} {SEED_RCPT}")
    msgs = seed_send()
    sender = msgs[0]["sender"]
    say(f"[web1]$ postqueue -c {conf} -p")
    say(web1("postqueue", "-p").stdout.rstrip())
    say("\nExim's mainlog on mx.rx.test:")
    exim_lines(mark, "sender verify")
    say("")
    check("mon", "check_callout", "-s", sender, "--nameserver", DNS_V4, "--helo", "mon.test")
    check("web1", "check_nullmailer", "--local", "--postfix-config", conf, "--nameserver", DNS_V4)
    say(f"[web1]$ postconf -c {conf} -e 'myorigin = $mydomain' 'masquerade_domains = $mydomain'")
    say(f"[web1]$ postfix -c {conf} reload; postsuper -c {conf} -r ALL; postqueue -c {conf} -f")
    mark2 = len(exim_mainlog("rx"))
    seed_fix()
    wait_until(
        "Exim to deliver the message",
        lambda: " => " in exim_mainlog("rx")[mark2:] or "=> " in exim_mainlog("rx")[mark2:],
    )
    say(f"[web1]$ postqueue -c {conf} -p")
    say(web1("postqueue", "-p").stdout.rstrip())
    say("\nExim's mainlog on mx.rx.test:")
    exim_lines(mark2, "")
    say("")
    check("mon", "check_callout", "-s", "root@good.test", "--nameserver", DNS_V4, "--helo", "mon.test")
    check("web1", "check_nullmailer", "--local", "--postfix-config", conf, "--nameserver", DNS_V4)
    seed_reset()


# ---------------------------------------------------------------- bring up
def up(verbose: bool = False) -> float:
    """Build the whole lab (after cleaning a stale one). Returns the seconds taken."""
    t0 = time.monotonic()
    missing = missing_prerequisites()
    if missing:
        raise LabError("lab prerequisites missing: " + "; ".join(missing))
    down()
    if LAB_DIR.exists():
        shutil.rmtree(LAB_DIR)
    LAB_DIR.mkdir(parents=True)
    LAB_DIR.chmod(0o755)
    for node in NODES.values():
        node.dir.mkdir()
        node.dir.chmod(0o755)

    def step(msg: str) -> None:
        if verbose:
            print(f"[{time.monotonic() - t0:6.2f}s] {msg}", flush=True)

    build_network()
    step("network: bridge namespace and veth pairs up")
    start_dns()
    step("dnsmasq started")
    for variant in EXIM_VARIANTS:
        setup_exim("rx", relay=False, variant=variant)
        start_exim("rx", variant)
    setup_exim("exrelay", relay=True)
    start_exim("exrelay")
    step("Exim receivers and Exim relay started")
    configure_postfixes()
    for name in POSTFIX_NODES:
        start_postfix(name)
    step("Postfix instances started")
    targets = [
        f"dns:{DNS_V4}",
        f"{RX_V4}:25",
        "[2001:db8::25]:25",
        f"{PRX_V4}:25",
        "192.0.2.31:25",
        "192.0.2.32:25",
        "192.0.2.33:25",
    ]
    targets += [f"[{a}]:25" if ":" in a else f"{a}:25" for a in NODES["mx"].v4 + NODES["mx"].v6]
    targets += [f"{RX_V4}:{port}" for port, _ in EXIM_VARIANTS.values()]
    wait_ready_in("mon", targets)
    wait_ready_in("web1", ["127.0.0.1:25"])
    step("all services answer")
    return time.monotonic() - t0


def status() -> str:
    lines = []
    for ns in lab_namespaces():
        lines.append(f"{ns}: pids {' '.join(map(str, ns_pids(ns))) or '-'}")
    return "\n".join(lines) or "lab is down"


# ---------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="labctl", description="real-MTA lab in network namespaces")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="build the lab (removes a stale one first)")
    sub.add_parser("down", help="stop every lab process and delete the namespaces")
    sub.add_parser("status", help="list lab namespaces and their processes")
    sh_p = sub.add_parser("shell", help="interactive shell in a lab host")
    sh_p.add_argument("node", choices=sorted(NODES))
    run_p = sub.add_parser("run", help="run a command in a lab host")
    run_p.add_argument("node", choices=sorted(NODES))
    run_p.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("scenarios", help="list the scenario senders")
    sub.add_parser("seed", help="play the seed story and show what happens")
    ask_p = sub.add_parser("ask", help="ask a live receiver about a sender, from mon")
    ask_p.add_argument("sender")
    ask_p.add_argument("--receiver", choices=[r.name for r in RECEIVERS], default="exim")
    sub.add_parser("table", help="ask every live receiver about every scenario")
    # internal helpers, run inside a namespace
    wr = sub.add_parser("wait-ready")
    wr.add_argument("--timeout", type=float, default=READY_TIMEOUT)
    wr.add_argument("targets", nargs="+")
    sa = sub.add_parser("smtp-ask")
    sa.add_argument("--host", required=True)
    sa.add_argument("--sender", required=True)
    sa.add_argument("--rcpt", required=True)
    sub.add_parser("ask-many")  # JSON [[receiver, sender], ...] on stdin
    a = p.parse_args(argv)

    if a.cmd == "up":
        with LabLock():
            took = up(verbose=True)
        print(
            f"lab up in {took:.1f}s; hosts: "
            + ", ".join(f"{n.ns} ({n.fqdn} {' '.join(n.v4)})" for n in NODES.values())
        )
        return 0
    if a.cmd == "down":
        with LabLock():
            down(quiet=False)
        return 0
    if a.cmd == "status":
        print(status())
        return 0
    if a.cmd == "shell":
        shell = os.environ.get("SHELL", "/bin/bash")
        os.execvp("ip", ["ip", "netns", "exec", PREFIX + a.node, shell])
    if a.cmd == "run":
        if not a.command:
            p.error("run needs a command")
        os.execvp("ip", ["ip", "netns", "exec", PREFIX + a.node, *a.command])
    if a.cmd == "scenarios":
        for s in SCENARIOS:
            designed = ", ".join(f"{r.name}: {s.designed(r.name)}" for r in RECEIVERS)
            print(f"{s.id:24} {s.sender:24} {designed}  ({s.what})")
        return 0
    if a.cmd == "seed":
        seed_demo()
        return 0
    if a.cmd == "ask":
        print(json.dumps(ask_receivers([(a.receiver, a.sender)])[0], indent=1))
        return 0
    if a.cmd == "table":
        questions = [(r.name, s.sender) for s in SCENARIOS for r in RECEIVERS]
        answers = iter(ask_receivers(questions))
        for s in SCENARIOS:
            for r in RECEIVERS:
                got = next(answers)
                print(
                    f"{s.id:24} {r.name:16} {got['answer']:13} (designed {s.designed(r.name)})"
                    f" {got['code']} {' '.join(got['text'].split())[:150]}"
                )
        return 0
    if a.cmd == "wait-ready":
        left = wait_ready(a.targets, a.timeout)
        if left:
            print("not ready: " + " ".join(left))
            return 1
        return 0
    if a.cmd == "ask-many":
        print(json.dumps(_ask_many(json.load(sys.stdin))))
        return 0
    if a.cmd == "smtp-ask":
        print(json.dumps(smtp_ask(a.host, a.sender, a.rcpt)))
        return 0
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LabError as exc:
        print(f"labctl: {exc}", file=sys.stderr)
        sys.exit(1)

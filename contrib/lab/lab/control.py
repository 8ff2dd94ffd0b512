"""Bringing the whole lab up and down, and what it needs installed."""

from __future__ import annotations

import os
import shutil
import time

from .base import (
    DNS_V4,
    ESX_V4,
    EXIM,
    EXIM_HEAVY,
    EXIM_PREFIX,
    LAB_DIR,
    NETNS_ETC,
    NETNS_RUN,
    PREFIX,
    PRX_V4,
    PSX_V4,
    RX_V4,
    LabError,
    lab_namespaces,
    ns_pids,
    nsrun,
    read_pid,
    sh,
    stop_pids,
)
from .dns import start_dns
from .dns_faults import dns_faults_pid_file
from .exim import EXIM_VARIANTS, exim_dir, setup_exim, start_exim
from .exim_strict import setup_strict_exim, start_strict_exim, strict_exim_dir
from .mx_hosts import configure_mx_hosts
from .network import build_network, wait_ready_in
from .nodes import NODES
from .postfix import POSTFIX_NODES, start_postfix
from .postfix_receiver import configure_postfix_receiver
from .postfix_strict import configure_strict_postfix
from .relays import configure_relays
from .seed import configure_null_mailer
from .sender import configure_sender


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
    if not os.access(EXIM_HEAVY, os.X_OK):
        missing.append(f"exim4-daemon-heavy not unpacked at {EXIM_HEAVY}")
    if shutil.which("policyd-spf") is None:
        missing.append("postfix-policyd-spf-python not installed")
    try:
        import pwd

        pwd.getpwnam("Debian-exim")
        pwd.getpwnam("postfix")
    except (KeyError, ImportError):
        missing.append("users Debian-exim/postfix missing")
    if any(m != "needs root" for m in missing):
        missing.append("(run contrib/lab/install-packages.sh as root)")
    return missing


def configure_postfixes() -> None:
    """Every Postfix instance's configuration (they are started later, by ``up``)."""
    configure_mx_hosts()
    configure_postfix_receiver()
    configure_null_mailer()
    configure_relays()
    configure_strict_postfix()
    configure_sender()


def down(quiet: bool = True) -> None:
    """Tear the lab down; also cleans what a crashed run left behind."""
    # polite stops first (Postfix flushes its state), all bounded
    for name in POSTFIX_NODES:
        conf = NODES[name].dir / "postfix"
        if (conf / "main.cf").exists() and (NETNS_RUN / NODES[name].ns).exists():
            nsrun(name, "postfix", "-c", str(conf), "stop", check=False, timeout=15)
    pidfiles = [NODES["dns"].dir / "dnsmasq.pid", NODES["exrelay"].dir / "exim.pid"]
    pidfiles += [exim_dir(v) / "exim.pid" for v in EXIM_VARIANTS]
    pidfiles += [strict_exim_dir() / "exim.pid", dns_faults_pid_file()]
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
    setup_strict_exim()
    start_strict_exim()
    step("Exim receivers, Exim relay and the strict Exim started")
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
        f"{PSX_V4}:25",
        f"{ESX_V4}:25",
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

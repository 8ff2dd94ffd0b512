"""The lab's network: the bridge namespace, one veth per host, resolv.conf and hosts, and
waiting (bounded) until the servers answer."""

from __future__ import annotations

import socket
import time

from .base import (
    BRIDGE,
    BRIDGE_NS,
    DNS_V4,
    NETNS_ETC,
    READY_TIMEOUT,
    LabError,
    lab_argv,
    lab_env,
    nsrun,
    sh,
    write,
)
from .dns import HOST_RECORDS
from .nodes import NODES

RESOLV_CONF = f"nameserver {DNS_V4}\nsearch test\noptions timeout:2 attempts:2\n"
#: Hosts that deliver straight to the recipients' MX get a default route, as a real host
#: has: check_nullmailer --local asks the kernel which source address mail to the
#: Internet would leave from.  The gateway answers nobody (no host has its address) and
#: the bridge has no way out: nothing leaves the lab.
DEFAULT_ROUTE = {"web1": ("192.0.2.1", "2001:db8::1")}


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
        for gateway in DEFAULT_ROUTE.get(node.name, ()):
            family = "-6" if ":" in gateway else "-4"
            sh("ip", "-n", ns, family, "route", "add", "default", "via", gateway, "dev", "eth0")
        etc = NETNS_ETC / ns
        write(etc / "resolv.conf", RESOLV_CONF)
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost"]
        for a in HOST_RECORDS.get(node.fqdn, node.v4[:1]):
            lines.append(f"{a}\t{node.fqdn} {node.fqdn.split('.')[0]}")
        write(etc / "hosts", "\n".join(lines) + "\n")


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
        *lab_argv("wait-ready", "--timeout", str(timeout), *targets),
        timeout=timeout + 10,
        check=False,
        env=lab_env(),
    )
    if cp.returncode != 0:
        raise LabError(f"not ready after {timeout}s from {node}: {cp.stdout.strip()} {cp.stderr.strip()}")

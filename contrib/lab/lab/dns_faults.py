"""DNS servers that misbehave on purpose, in cclab-dns: 192.0.2.54 answers SERVFAIL to
every question, 192.0.2.55 reads every question and never answers, 192.0.2.56 serves
``loop.test`` where ``loop1`` and ``loop2`` are CNAMEs of each other, and answers NXDOMAIN
for every other name. The lab's dnsmasq forwards ``servfail.test``, ``silent.test`` and
``loop.test`` to them (``server=/DOMAIN/``), and every name outside its own zones to
192.0.2.56 (so they are NXDOMAIN, never REFUSED, and never leave the lab)."""

from __future__ import annotations

import select
import socket
import struct
import subprocess
import time
from pathlib import Path

from .base import FAULTS_V4, SERVFAIL_V4, SILENT_V4, lab_argv, lab_env
from .nodes import NODES

#: how long the servers run at most (the lab stops them by PID long before)
LIFETIME = 6 * 3600.0


def _question_end(packet: bytes) -> int:
    """The offset just after the first question (name, type, class)."""
    i = 12
    while i < len(packet) and packet[i]:
        i += 1 + packet[i]
    return i + 5


def _labels(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def _qname(packet: bytes) -> str:
    out, i = [], 12
    while i < len(packet) and packet[i]:
        out.append(packet[i + 1 : i + 1 + packet[i]].decode(errors="replace"))
        i += 1 + packet[i]
    return ".".join(out).lower()


def reply(packet: bytes, rcode: int, answers: bytes = b"", count: int = 0) -> bytes:
    """A response to PACKET's first question: QR, AA and RD copied, RA off."""
    end = _question_end(packet)
    flags = 0x8400 | (struct.unpack("!H", packet[2:4])[0] & 0x0100) | rcode
    return packet[:2] + struct.pack("!HHHHH", flags, 1, count, 0, 0) + packet[12:end] + answers


def loop_answer(packet: bytes) -> bytes:
    """loop1.loop.test CNAME loop2.loop.test and back; every other name NXDOMAIN."""
    name = _qname(packet)
    partner = {"loop1.loop.test": "loop2.loop.test", "loop2.loop.test": "loop1.loop.test"}.get(name)
    if partner is None:
        return reply(packet, 3)
    target = _labels(partner)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(target)) + target
    return reply(packet, 0, rr, 1)


def serve_dns_faults(lifetime: float = LIFETIME) -> None:
    """Run the three servers (one socket each) until LIFETIME has passed."""
    socks = {}
    for addr in (SERVFAIL_V4, SILENT_V4, FAULTS_V4):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 53))
        socks[s] = addr
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        ready, _, _ = select.select(list(socks), [], [], 1.0)
        for s in ready:
            packet, peer = s.recvfrom(512)
            if len(packet) < 17:
                continue
            if socks[s] == SERVFAIL_V4:
                s.sendto(reply(packet, 2), peer)
            elif socks[s] == FAULTS_V4:
                s.sendto(loop_answer(packet), peer)
            # SILENT_V4: never answers


def dns_faults_pid_file() -> Path:
    return NODES["dns"].dir / "dns-faults.pid"


def start_dns_faults() -> None:
    """Start the servers in cclab-dns, in the background; their PID goes to a file."""
    log = open(NODES["dns"].dir / "dns-faults.log", "ab")  # the child keeps it open
    proc = subprocess.Popen(
        ["ip", "netns", "exec", NODES["dns"].ns, *lab_argv("dns-faults")],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=lab_env(),
        start_new_session=True,
    )
    log.close()
    dns_faults_pid_file().write_text(f"{proc.pid}\n")

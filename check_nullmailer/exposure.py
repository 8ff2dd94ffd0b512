"""Listening TCP sockets, read from ``/proc/net/tcp`` and ``/proc/net/tcp6``.

No ``ss``/``netstat`` is needed and nothing is connected to: the kernel's socket tables
list every listener with its bound address.  The ``proc`` directory is a parameter so
tests can read fixture files.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from check_callout.kit.files import CouldNotRead, read_text

SMTP_PORTS = (25, 465, 587)
_LISTEN = "0A"
MAX_LINES = 200_000  # a busy host has many sockets; never read without bound
MAX_TABLE = 64 * 1024 * 1024  # bytes of one socket table (a busy host's is a few MiB)


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket."""

    address: str  # textual IP address ("0.0.0.0", "::", "127.0.0.1", ...)
    port: int

    @property
    def loopback(self) -> bool:
        ip = ipaddress.ip_address(self.address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback

    @property
    def wildcard(self) -> bool:
        return ipaddress.ip_address(self.address).is_unspecified

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _decode_v4(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    return str(ipaddress.IPv4Address(raw[::-1]))


def _decode_v6(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    # four 32-bit words, each in host (little-endian) byte order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    ip = ipaddress.IPv6Address(words)
    if ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


def parse_proc_tcp(text: str, ipv6: bool) -> list[Listener]:
    """Listeners in the text of one ``/proc/net/tcp*`` file (bad lines are skipped)."""
    found: list[Listener] = []
    for number, line in enumerate(text.splitlines()):
        if number == 0 or number > MAX_LINES:
            continue
        fields = line.split()
        if len(fields) < 4 or fields[3].upper() != _LISTEN:
            continue
        addr, _, port_hex = fields[1].partition(":")
        try:
            port = int(port_hex, 16)
            address = _decode_v6(addr) if ipv6 else _decode_v4(addr)
        except ValueError:
            continue
        found.append(Listener(address, port))
    return found


class ProcUnreadable(Exception):
    """Neither socket table could be read."""


def listeners(proc: str = "/proc", ports: tuple[int, ...] = SMTP_PORTS) -> list[Listener]:
    """Listening sockets on ``ports`` (both families); duplicates removed, sorted."""
    seen: set[Listener] = set()
    readable = 0
    errors: list[str] = []
    for name, ipv6 in (("tcp", False), ("tcp6", True)):
        path = os.path.join(proc, "net", name)
        try:  # a table read in part could hide a listener: larger than the bound is an error
            text = read_text(path, limit=MAX_TABLE)
        except CouldNotRead as exc:
            if exc.missing:
                continue  # no IPv6 in this kernel, or no IPv4
            errors.append(f"{path}: {exc.why}")
            continue
        readable += 1
        seen.update(item for item in parse_proc_tcp(text, ipv6) if item.port in ports)
    if not readable:
        raise ProcUnreadable("; ".join(errors) or f"no socket table under {proc}/net")
    return sorted(seen, key=lambda item: (item.port, ":" in item.address, item.address))


def public(found: list[Listener]) -> list[Listener]:
    """The listeners reachable from other hosts (bound to a non-loopback address)."""
    return [item for item in found if not item.loopback]

"""TLS facts for the long output: protocol, cipher, certificate expiry and names.

Facts only; nothing here judges.  Never raises: a certificate that cannot be described
leaves the facts empty.
"""

from __future__ import annotations

import time

from check_callout.kit.text import sanitize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class TLSInfo:
    """What the TLS handshake showed; facts, not judged by default."""

    def __init__(self) -> None:
        self.version = ""
        self.cipher = ""
        self.subject = ""
        self.names: list[str] = []
        self.not_after = ""
        self.days_left: int | None = None
        self.name_match: bool | None = None

    def describe(self) -> str:
        parts = [p for p in (self.version, self.cipher) if p]
        if self.days_left is not None:
            parts.append(f"certificate expires in {self.days_left} days ({self.not_after})")
        if self.name_match is not None:
            parts.append("name matches" if self.name_match else "name does not match")
        return ", ".join(parts) or "TLS"


def tls_info(sock: Any, server_name: str | None) -> TLSInfo:
    """The facts of an established TLS connection.  Never raises: what cannot be
    described stays empty (a finding of the dialogue must never be lost to this)."""
    info = TLSInfo()
    try:
        info.version = sock.version() or ""
        cipher = sock.cipher()
        info.cipher = cipher[0] if cipher else ""
        der = sock.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return info
    if der:
        try:
            _decode_cert(der, info, server_name)
        except Exception:  # a certificate this reader does not understand: facts stay empty
            pass
    return info


def _decode_cert(der: bytes, info: TLSInfo, server_name: str | None) -> None:
    """Read expiry and names from the peer certificate (facts for long output), in
    memory: no code path may need a writable file system."""
    from check_callout.net.x509 import parse

    cert = parse(der)
    info.names = [sanitize(name, 80) for name in cert.dns_names[:50]]
    info.subject = sanitize(cert.common_name, 80)
    if not info.names and info.subject:
        info.names = [info.subject]
    info.not_after = cert.not_after_text
    if cert.not_after is not None:
        info.days_left = int((cert.not_after - time.time()) // 86400)
    if server_name:
        info.name_match = any(_name_matches(pattern, server_name) for pattern in info.names)


def _name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name

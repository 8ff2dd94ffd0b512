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
    info = TLSInfo()
    try:
        info.version = sock.version() or ""
        cipher = sock.cipher()
        info.cipher = cipher[0] if cipher else ""
        der = sock.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return info
    if der:
        _decode_cert(der, info, server_name)
    return info


def _decode_cert(der: bytes, info: TLSInfo, server_name: str | None) -> None:
    """Read expiry and names from the peer certificate (facts for long output)."""
    import os
    import ssl
    import tempfile

    decoder = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decoder is None:
        return
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        cert = decoder(path)
    except Exception:
        return
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    info.names = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
    subject = dict(item[0] for item in cert.get("subject", ()) if item)
    info.subject = sanitize(str(subject.get("commonName", "")), 80)
    if not info.names and info.subject:
        info.names = [info.subject]
    info.not_after = str(cert.get("notAfter", ""))
    if info.not_after:
        try:
            expires = ssl.cert_time_to_seconds(info.not_after)
            info.days_left = int((expires - time.time()) // 86400)
        except ValueError:
            pass
    if server_name:
        info.name_match = any(_name_matches(pattern, server_name) for pattern in info.names)


def _name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name

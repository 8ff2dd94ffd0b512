"""Envelope addresses and domains: parsing, validation and IDNA.

Every address a user passes (or a configuration file yields) goes through
:func:`parse_address` before it is put on the wire, so a malformed value ends in a
clear usage error instead of a confusing SMTP exchange.
"""

from __future__ import annotations

import re
import socket
from collections import namedtuple

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63
MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3: a path is at most 256 octets with its "<>"

# Character sets instead of regular expressions where a set does the job: compiling
# patterns is paid at every start of the plugin.
_ATEXT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_LDH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"\Z'  # compiled when a local part is quoted


def _dot_atom(local: str) -> bool:
    """RFC 5321 Dot-string: atoms of atext joined by single dots."""
    return all(atom and _ATEXT.issuperset(atom) for atom in local.split("."))


def _quoted(local: str) -> bool:
    """RFC 5321 Quoted-string of printable ASCII, with backslash pairs."""
    return local.startswith('"') and re.match(_QUOTED, local) is not None


def _label(label: str) -> bool:
    """A DNS label: letters, digits and hyphens, 1 to 63, no hyphen at either end."""
    return 0 < len(label) <= MAX_LABEL and _LDH.issuperset(label) and label[0] != "-" and label[-1] != "-"


class AddressError(ValueError):
    """The text is not an address or domain we can put on the wire."""


class Address(namedtuple("Address", "local domain unicode_domain")):
    """An envelope address: ``local`` part and ASCII (A-label) ``domain``."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}" if self.local or self.domain else ""  # "": the null sender

    @property
    def display(self) -> str:
        """The address as the user knows it (U-label domain); ``<>`` the null sender."""
        return f"{self.local}@{self.unicode_domain}" if self.local or self.domain else "<>"


def _check_chars(text: str, what: str) -> None:
    if not text:
        raise AddressError(f"empty {what}")
    for ch in text:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise AddressError(f"{what} contains a control character (0x{ord(ch):02x})")


def to_ascii_domain(domain: str) -> str:
    """Return the A-label form of ``domain`` (IDNA 2008 when available), validated."""
    _check_chars(domain, "domain")
    name = domain.rstrip(".") if domain.endswith(".") and domain != "." else domain
    if " " in name:
        raise AddressError(f"domain contains a space: {domain!r}")
    if name.startswith("[") or _looks_like_ip(name):
        raise AddressError(f"address literals are not supported as domains: {domain!r}")
    if not name.isascii():
        name = _idna_encode(name)
    name = name.lower()
    if len(name) > MAX_DOMAIN:
        raise AddressError(f"domain longer than {MAX_DOMAIN} characters")
    labels = name.split(".")
    if len(labels) < 1 or any(not _label(label) for label in labels):
        raise AddressError(f"not a valid domain name: {domain!r}")
    return name


def _looks_like_ip(name: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+", name)) or ":" in name


def _idna_encode(name: str) -> str:
    try:
        import idna  # IDNA 2008 with UTS 46 mapping, as browsers and MTAs use

        return idna.encode(name, uts46=True).decode("ascii")
    except ImportError:  # pragma: no cover - dnspython[idna] pulls it in
        try:
            return name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise AddressError(f"not a valid internationalised domain: {exc}") from None
    except Exception as exc:  # idna.IDNAError and its subclasses
        raise AddressError(f"not a valid internationalised domain: {name!r} ({exc})") from None


def to_unicode_domain(domain: str) -> str:
    """Return the U-label form of an ASCII domain for display; unchanged on error."""
    if "xn--" not in domain:
        return domain
    try:
        import idna

        return idna.decode(domain)
    except Exception:
        return domain


def parse_address(text: str) -> Address:
    """Parse ``local@domain`` as used in ``MAIL FROM``/``RCPT TO``."""
    _check_chars(text, "address")
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if "@" not in text:
        raise AddressError(f"not an address (no @): {text!r}")
    local, _, domain = text.rpartition("@")
    if not local:
        raise AddressError(f"empty local part: {text!r}")
    if not local.isascii():
        raise AddressError(f"non-ASCII local part needs SMTPUTF8, which a callout does not use: {text!r}")
    if not (_dot_atom(local) or _quoted(local)):
        raise AddressError(f"not a valid local part: {local!r}")
    if len(local) > MAX_LOCAL:
        raise AddressError(f"local part longer than {MAX_LOCAL} characters")
    ascii_domain = to_ascii_domain(domain)
    if len(local) + 1 + len(ascii_domain) > MAX_ADDRESS:
        raise AddressError(f"address longer than {MAX_ADDRESS} characters")
    return Address(local, ascii_domain, to_unicode_domain(ascii_domain))


def domain_address(domain: str, local: str = "postmaster") -> Address:
    """The address ``local@domain`` for a bare domain (``-d``)."""
    ascii_domain = to_ascii_domain(domain)
    return Address(local, ascii_domain, to_unicode_domain(ascii_domain))


def is_non_public(address: str) -> bool:
    """Loopback, RFC 1918/ULA, link-local, unspecified or CGNAT; not the documentation ranges."""
    import ipaddress  # only judging needs it: not imported at start-up

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
        return any(ip in ipaddress.ip_network(net) for net in private)
    return ip in ipaddress.ip_network("fc00::/7")


def is_ip(text: str) -> bool:
    """An IPv4 or IPv6 address literal (checked without importing ipaddress)."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    try:
        socket.inet_pton(family, text.split("%", 1)[0] if family == socket.AF_INET6 else text)
    except (OSError, ValueError):
        return False
    return True

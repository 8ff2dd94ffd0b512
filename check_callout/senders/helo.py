"""The HELO name as strict receivers check it.

- syntax: letters, digits, hyphens and dots (Exim refuses an underscore at EHLO with
  ``501 Syntactically invalid EHLO argument(s)`` unless ``helo_allow_chars`` allows
  it; Postfix takes it); an address literal ``[192.0.2.30]`` is valid syntax;
- fully qualified: a dot in it (``reject_non_fqdn_helo_hostname``: ``web1`` and
  ``localhost`` are refused);
- found: an A, AAAA or MX record (``reject_unknown_helo_hostname``: any address will do,
  even another host's);
- resolves to the client: its A/AAAA records hold the client's address, or the client's
  forward-confirmed PTR name is the HELO name (Exim ``verify = helo``).
"""

from __future__ import annotations

from check_callout.senders.lookup import FOUND, NONE, UNKNOWN, Found
from check_callout.senders.result import Check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.senders.lookup import Lookup

_HOSTNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")


def literal(helo: str) -> str:
    """The address in an address literal (``[192.0.2.30]``, ``[IPv6:2001:db8::1]``), else ""."""
    if not (helo.startswith("[") and helo.endswith("]")):
        return ""
    from check_callout.address import is_ip

    inner = helo[1:-1]
    if inner[:5].lower() == "ipv6:":
        inner = inner[5:]
    return inner if is_ip(inner) else ""


def syntax(helo: str) -> Check:
    if literal(helo):
        return Check("helo_syntax", "literal", f"{helo} is an address literal")
    name = helo.rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or any(not label or len(label) > 63 for label in labels):
        return Check("helo_syntax", "invalid", f"{helo!r} is not a host name")
    if "_" in name and _HOSTNAME.issuperset(name.replace("_", "")):
        return Check("helo_syntax", "underscore", f"{helo} has an underscore (not a host name character)")
    if not _HOSTNAME.issuperset(name) or any(label[0] == "-" or label[-1] == "-" for label in labels):
        return Check("helo_syntax", "invalid", f"{helo!r} has characters a host name may not have")
    return Check("helo_syntax", "ok", f"{helo} is a valid host name")


def fqdn(helo: str) -> Check:
    if literal(helo):
        return Check("helo_fqdn", "ok", f"{helo} is an address literal")
    if "." not in helo.rstrip(".") or helo.lower().rstrip(".") == "localhost":
        return Check("helo_fqdn", "short", f"{helo} is not a fully qualified name (no dot)")
    return Check("helo_fqdn", "ok", f"{helo} has a dot")


def found(helo: str, addresses: list[Found], mx: Found | None) -> Check:
    """Any A, AAAA (or MX) record for the HELO name: ``reject_unknown_helo_hostname``."""
    if literal(helo):
        return Check("helo_found", "found", f"{helo} is an address literal (not looked up)")
    answers = [a for a in addresses if a.found] + ([mx] if mx is not None and mx.found else [])
    if answers:
        return Check("helo_found", "found", "; ".join(a.words() for a in answers))
    unknown = [a for a in [*addresses, mx] if a is not None and a.status == UNKNOWN]
    if unknown:
        return Check("helo_found", UNKNOWN, "; ".join(a.words() for a in unknown))
    seen = [a for a in [*addresses, mx] if a is not None]
    return Check("helo_found", NONE, "; ".join(a.words() for a in seen) or f"{helo}: no record")


def resolves_to(helo: str, client: str, addresses: list[Found], confirmed_names: list[str]) -> Check:
    """Exim ``verify = helo`` for ``client``."""
    inside = literal(helo)
    if inside:
        if inside == client:
            return Check("helo_client", "match", f"{helo} is the client's address")
        return Check("helo_client", "other", f"{helo} is not the client's address {client}")
    name = helo.lower().rstrip(".")
    if name in confirmed_names:
        return Check("helo_client", "match", f"{helo} is the client's forward-confirmed PTR name")
    every = [v for a in addresses if a.found for v in a.values]
    if client in every:
        return Check("helo_client", "match", f"{helo} resolves to {client}")
    if every:
        return Check("helo_client", "other", f"{helo} resolves to {', '.join(every[:4])}, not {client}")
    unknown = [a for a in addresses if a.status == UNKNOWN]
    if unknown:
        return Check("helo_client", UNKNOWN, "; ".join(a.words() for a in unknown))
    return Check("helo_client", NONE, f"{helo} has no address record")


def helo_lookups(lookup: Lookup, helo: str) -> tuple[list[Found], Found | None]:
    """The HELO name's A/AAAA answers and, when it has no address, its MX answer."""
    if literal(helo) or "." not in helo or syntax(helo).outcome == "invalid":
        return [], None
    addresses = lookup.addresses(helo)
    mx = None if any(a.found for a in addresses) else lookup.ask(helo, "MX")
    return addresses, mx


__all__ = ["FOUND", "fqdn", "found", "helo_lookups", "literal", "resolves_to", "syntax"]

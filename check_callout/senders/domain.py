"""The envelope sender's domain as strict receivers check it.

- fully qualified: a dot in it (Postfix ``reject_non_fqdn_sender``, ``504 5.5.2``);
- exists: an MX, A or AAAA record (Postfix ``reject_unknown_sender_domain``, ``450
  4.1.8 ... Domain not found``); a null MX (RFC 7505) is refused by Postfix 3 with
  ``550 5.7.27 ... Sender address does not accept mail``.

A null sender has neither: both checks are :data:`~check_callout.senders.result.NOT_ASKED`.
"""

from __future__ import annotations

from check_callout.senders.lookup import UNKNOWN
from check_callout.senders.result import NOT_ASKED, Check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.senders.lookup import Lookup


def fqdn(domain: str) -> Check:
    if not domain:
        return Check("sender_fqdn", NOT_ASKED, "null sender: no domain")
    if "." not in domain.rstrip("."):
        return Check("sender_fqdn", "short", f"{domain} is not a fully qualified domain (no dot)")
    return Check("sender_fqdn", "ok", f"{domain} has a dot")


def exists(lookup: Lookup, domain: str) -> Check:
    """MX first; without one, A/AAAA (asked together)."""
    if not domain:
        return Check("sender_domain", NOT_ASKED, "null sender: no domain")
    if "." not in domain.rstrip("."):
        return Check("sender_domain", "none", f"{domain}: a single label, not looked up")
    mx = lookup.ask(domain, "MX")
    if mx.found:
        if all(r.exchange.labels == (b"",) for r in mx.records):
            return Check("sender_domain", "null_mx", f"{mx.words()}: a null MX (RFC 7505)")
        return Check("sender_domain", "found", mx.words())
    if mx.status == UNKNOWN:
        return Check("sender_domain", UNKNOWN, mx.words())
    if mx.detail == "NXDOMAIN":
        return Check("sender_domain", "none", mx.words())
    answers = lookup.addresses(domain)
    if any(a.found for a in answers):
        return Check(
            "sender_domain", "found", "; ".join([mx.words()] + [a.words() for a in answers if a.found])
        )
    if any(a.status == UNKNOWN for a in answers):
        return Check("sender_domain", UNKNOWN, "; ".join(a.words() for a in answers))
    return Check("sender_domain", "none", "; ".join([mx.words()] + [a.words() for a in answers]))

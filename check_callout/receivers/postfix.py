"""Postfix's ``reject_unverified_sender`` as a receiver profile.

Postfix verifies a sender with a real delivery attempt of its own ``smtp(8)`` client,
stopped before DATA (``ADDRESS_VERIFICATION_README``), so the client's rules apply:

- the probe's sender is ``$double_bounce_sender`` at the receiver's ``$myorigin``, not
  the null sender: what counts is the answer to ``MAIL FROM:<double-bounce@...>``;
- MX hosts by preference, equal preferences in random order
  (``smtp_randomize_addresses``), the addresses of a host in random family order
  (``smtp_address_preference = any``);
- at most ``smtp_mx_address_limit`` (5) addresses and ``smtp_mx_session_limit`` (2) SMTP
  sessions; a connection that fails is no session;
- 2xx to RCPT: deliverable; 5xx to MAIL or RCPT: undeliverable, no other host asked;
  anything else: the next address, until the limits; then the probe is deferred with
  the last error;
- null MX, a domain or MX host that does not exist: undeliverable.

What smtpd then answers: 450 (``unverified_sender_reject_code`` and
``unverified_sender_defer_code`` are both 450 by default) and ``4.1.7 <x>: Sender
address rejected: unverified address: <why>``.  Measured on Postfix 3.7: the words are
"unverified address" for a bounced probe too; smtpd chooses "undeliverable address" only
when the code it sends is a 5xx (the manual suggests the text tells the two apart; the
program decides by the code).  ``<why>`` is cut at 250 characters.
"""

from __future__ import annotations

from itertools import groupby, permutations, product

from check_callout.net.routes import DNS_ERROR, NO_ADDRESS, NULL_MX, NXDOMAIN
from check_callout.receiver import ACCEPT as KIND_ACCEPT
from check_callout.receiver import BLIND, UNFINISHED, UNREACHABLE, Outcome
from check_callout.receiver import REJECT as KIND_REJECT
from check_callout.receivers.profile import ACCEPT, Prediction, Profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from check_callout.net.routes import Route
    from check_callout.receivers.evidence import Evidence

BOUNCE = "bounce"
DEFERRED = "defer"
WHY_LIMIT = 250  # smtpd quotes the probe's reason with %.250s
MAX_ORDERS = 64  # host/address orders tried when the client picks at random
_IN_REPLY = {
    "rcpt": "RCPT TO",
    "mail": "MAIL FROM",
    "ehlo": "EHLO",
    "helo": "HELO",
    "rset": "RSET",
    "starttls": "STARTTLS",
}


def double_bounce(domain_or_address: str) -> str:
    """``double-bounce@DOMAIN`` (an address is taken as it is)."""
    return domain_or_address if "@" in domain_or_address else f"double-bounce@{domain_or_address}"


def predict_postfix(profile: Profile, evidence: Evidence) -> Prediction:
    """What a Postfix receiver with ``reject_unverified_sender`` answers."""
    route = evidence.route
    early = _no_route(route)
    if early == "":
        return Prediction(profile, None, profile.defer_code, reason=route.detail)
    if early is not None:
        return _answer(profile, evidence.sender, (BOUNCE, early), route.detail)
    outcomes = evidence.outcomes(evidence.sender, evidence.postfix_sender)
    results: list[tuple[str, str]] = []
    for order in _orders(route):
        result = walk(order, outcomes, profile)
        if result not in results:
            results.append(result)
    if not results:
        return Prediction(profile, None, profile.defer_code, reason="no address to try")
    if any(status is None for status, _why in results):
        return Prediction(
            profile, None, profile.defer_code, reason="a host Postfix would ask did not answer in time"
        )
    first = _answer(profile, evidence.sender, results[0], _reason(results[0]))
    also = []
    for result in results[1:]:
        other = _answer(profile, evidence.sender, result, "")
        if (other.action, other.code) != (first.action, first.code):
            also.append((other.action, other.code, other.text))
    if also:
        first.reason += " (Postfix orders hosts and addresses at random: another order gives another answer)"
    first.also = tuple(also)
    return first


def walk(
    order: list[tuple[str, str]], outcomes: dict[str, Outcome], profile: Profile
) -> tuple[str | None, str]:
    """Postfix's smtp(8) client over ``order`` ((host, address) pairs): ("ok" | "bounce" |
    "defer" | None for cannot tell, and the reason as Postfix words it)."""
    sessions = 0
    why = "no MX host has an address"
    blind = False  # an address this host cannot reach at all: a receiver elsewhere may
    for host, address in order[: profile.address_limit or None]:
        outcome = outcomes.get(address)
        if outcome is None or outcome.kind == UNFINISHED:
            return None, ""
        if outcome.kind == BLIND:
            blind = True
            continue
        if outcome.kind == UNREACHABLE and outcome.phase in ("connect", ""):
            why = f"connect to {host}[{address}]:25: {_connect_error(outcome.text)}"
            continue
        sessions += 1
        if outcome.kind == KIND_ACCEPT:
            return "ok", f"host {host}[{address}] said: {outcome.code} {outcome.text}"
        said = _said(host, address, outcome)
        if outcome.kind == KIND_REJECT and outcome.phase in ("mail", "rcpt"):
            return BOUNCE, said
        why = said
        if profile.session_limit and sessions >= profile.session_limit:
            break
    return (None, "") if blind else (DEFERRED, why)


def _answer(profile: Profile, sender: str, result: tuple[str | None, str], reason: str) -> Prediction:
    status, why = result
    if status == "ok":
        return Prediction(profile, ACCEPT, 250, "2.1.5 Ok", reason=reason)
    code = profile.reject_code if status == BOUNCE else profile.defer_code
    words = "undeliverable" if code >= 500 else "unverified"
    text = f"4.1.7 <{sender}>: Sender address rejected: {words} address: {why[:WHY_LIMIT]}"
    return Prediction(profile, profile.action_of(code), code, text, reason=reason)


def _reason(result: tuple[str | None, str]) -> str:
    status, why = result
    if status == "ok":
        return why
    return ("the probe bounces: " if status == BOUNCE else "the probe is deferred: ") + why


def _no_route(route: Route) -> str | None:
    """The probe's bounce reason when DNS alone decides; "" for cannot tell; None: walk."""
    if route.status == DNS_ERROR:
        return ""
    if route.status == NULL_MX:
        return f"Domain {route.domain} does not accept mail (nullMX)"
    if route.status == NXDOMAIN:
        return _not_found(route.domain)
    if route.status == NO_ADDRESS or not any(h.addresses for h in route.hosts):
        return _not_found(route.hosts[0].name if route.hosts else route.domain)
    return None


def _not_found(name: str) -> str:
    # Postfix 3.7 with inet_protocols = all names the AAAA lookup (seen in the lab)
    return f"Host or domain name not found. Name service error for name={name} type=AAAA: Host not found"


def _orders(route: Route) -> list[list[tuple[str, str]]]:
    """The orders in which Postfix may try the (host, address) pairs, at most MAX_ORDERS."""
    choices = []
    for _pref, group in groupby([h for h in route.hosts if h.addresses], key=lambda h: h.preference):
        hosts = list(group)
        variants = []
        for hosts_order in _limited(permutations(hosts)):
            per_host = [_families(h.addresses) for h in hosts_order]
            for addresses in _limited(product(*per_host)):
                variants.append([(h.name, a) for h, addrs in zip(hosts_order, addresses) for a in addrs])
        choices.append(variants)
    orders = []
    for parts in _limited(product(*choices)):
        orders.append([pair for part in parts for pair in part])
    return orders


def _families(addresses: list[str]) -> list[list[str]]:
    """A host's addresses IPv6 first, and IPv4 first when it has both."""
    v6 = [a for a in addresses if ":" in a]
    v4 = [a for a in addresses if ":" not in a]
    return [v6 + v4, v4 + v6] if v6 and v4 else [addresses]


def _limited(iterable: Iterable) -> list:
    """At most MAX_ORDERS items, tuples made lists."""
    found = []
    for item in iterable:
        found.append(list(item) if isinstance(item, tuple) else item)
        if len(found) >= MAX_ORDERS:
            break
    return found


def _said(host: str, address: str, outcome: Outcome) -> str:
    if not outcome.code:
        return f"lost connection with {host}[{address}] ({outcome.text})"
    command = _IN_REPLY.get(outcome.phase, outcome.phase.upper())
    step = "initial greeting" if outcome.phase == "banner" else f"{command} command"
    reply = " ".join(outcome.text.split())
    return f"host {host}[{address}] said: {outcome.code} {reply} (in reply to {step})"


def _connect_error(words: str) -> str:
    if words.startswith("refused"):
        return "Connection refused"
    if words.startswith("timed out"):
        return "Connection timed out"
    if "(" in words:
        return words[words.index("(") + 1 : words.rindex(")")] if ")" in words else words
    return words

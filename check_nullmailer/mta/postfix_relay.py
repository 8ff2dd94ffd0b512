"""Whether one Postfix smtpd relays for strangers, from its effective settings (main.cf
with the service's ``-o`` overrides applied and expanded).

What the real smtpd does (Postfix 3.7, checked in the lab):

- a recipient must pass ``smtpd_relay_restrictions`` and then
  ``smtpd_recipient_restrictions``; in each list the first ``permit`` ends that list
  with success, ``permit_mynetworks`` does so for clients in ``mynetworks``, and
  ``reject_unauth_destination`` (or ``defer_unauth_destination``, ``reject``, ``defer``,
  ``defer_if_permit``) refuses a foreign recipient; a list that ends without a decision
  lets the recipient through;
- smtpd refuses to run when neither list has such a refusing item before any ``permit``
  (``-o smtpd_relay_restrictions=permit`` alone): "fatal: in parameter
  smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working
  instance of: reject_unauth_destination, ...".  The master daemon keeps the socket open
  and throttles the service ("bad command startup -- throttling"): a client connects and
  gets no greeting until it gives up, so nothing is relayed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from check_callout.kit.text import sanitize
from check_nullmailer.host import network_reach
from check_nullmailer.mta.base import RELAY_NETWORKS, RELAY_NONE, RELAY_OPEN, RELAY_UNKNOWN

# what Postfix accepts as "refuses mail for foreign domains by default"
_GATES = (
    "reject_unauth_destination",
    "defer_unauth_destination",
    "reject",
    "defer",
    "defer_if_permit",
    "check_relay_domains",
)
_WORST = (RELAY_NONE, RELAY_UNKNOWN, RELAY_NETWORKS, RELAY_OPEN)


@dataclass(frozen=True)
class RelayVerdict:
    """What one smtpd would do with a stranger's foreign recipient."""

    state: str  # a RELAY_* state of the restrictions as written
    text: str
    fatal: str = ""  # set when the real smtpd exits at start instead (nothing relayed)


def words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value) if w]


MAX_ITEMS = 10_000  # restrictions after spelling out classes; more is not evaluated


class TooManyRestrictions(Exception):
    """Restriction classes that name each other spell out into too long a list."""


def _flatten(items: list[str], classes: dict[str, list[str]], depth: int = 0) -> list[str]:
    """A list with its restriction classes spelled out (a class decides as its items do);
    raises :class:`TooManyRestrictions` rather than judge a list cut short."""
    found: list[str] = []
    for item in items:
        if item in classes and depth < 5:
            found += _flatten(classes[item], classes, depth + 1)
        else:
            found.append(item)
        if len(found) > MAX_ITEMS:
            raise TooManyRestrictions
    return found


def _has_gate(items: list[str], classes: dict[str, list[str]], depth: int = 0) -> bool:
    """Postfix's own start-up test: a refusing item, looked for up to the first permit
    (also inside restriction classes)."""
    skip = False
    for item in items:
        if skip:
            skip = False
            continue
        if item == "warn_if_reject":
            skip = True
            continue
        if item == "permit":
            return False
        if item in _GATES:
            return True
        if depth < 5 and item in classes and _has_gate(classes[item], classes, depth + 1):
            return True
    return False


def _list_verdict(items: list[str], reach: dict[str, str]) -> tuple[str, bool]:
    """What one restriction list does with a stranger's foreign recipient, and whether
    an item of the list decided it (``False``: the list ended, and the recipient passes)."""
    for item in items:
        if item == "permit":
            return RELAY_OPEN, True
        if item == "permit_mynetworks":
            kinds = set(reach.values())
            for kind, state in (("all", RELAY_OPEN), ("net", RELAY_NETWORKS), ("other", RELAY_UNKNOWN)):
                if kind in kinds:
                    return state, True
            continue
        if item in _GATES:
            return RELAY_NONE, True
    return RELAY_OPEN, False


def relay_verdict(settings: dict[str, str]) -> RelayVerdict:
    """The verdict for one smtpd from its effective, expanded settings."""
    relay_list = settings.get("smtpd_relay_restrictions", "")
    rcpt_list = settings.get("smtpd_recipient_restrictions", "")
    relay_items, rcpt_items = words(relay_list), words(rcpt_list)
    networks = words(settings.get("mynetworks", ""))
    reach = {item: network_reach(item) for item in networks}
    class_names = words(settings.get("smtpd_restriction_classes", ""))
    classes = {name: words(settings.get(name, "")) for name in class_names}
    fatal = ""
    if not _has_gate(relay_items, classes) and not _has_gate(rcpt_items, classes):
        fatal = (
            "smtpd exits at start (neither smtpd_relay_restrictions nor smtpd_recipient_restrictions "
            "has reject_unauth_destination before a permit): the master keeps listening, "
            "clients get no greeting"
        )
    try:
        first = _list_verdict(_flatten(relay_items, classes), reach)
        second = _list_verdict(_flatten(rcpt_items, classes), reach)
    except TooManyRestrictions:
        why = f"restriction classes spell out into more than {MAX_ITEMS} restrictions (not evaluated)"
        return RelayVerdict(RELAY_UNKNOWN, why)
    state = min(first[0], second[0], key=_WORST.index)  # a recipient must pass both lists
    if fatal:  # what the restrictions grant in so many words; smtpd itself never runs
        grants = [v for v, decided in (first, second) if decided and v != RELAY_NONE]
        state = worst(grants) if grants else RELAY_NONE
    if state == RELAY_OPEN:
        if "permit" in relay_items or "permit" in rcpt_items:
            shown = relay_list if "permit" in relay_items else rcpt_list
            name = "smtpd_relay_restrictions" if "permit" in relay_items else "smtpd_recipient_restrictions"
            text = f"{name} permits everyone ({sanitize(shown, 80)})"
        elif any(v == "all" for v in reach.values()):
            text = f"mynetworks = {sanitize(' '.join(networks), 80)} includes every address"
        else:
            text = "no restriction refuses foreign recipients"
    elif state == RELAY_NETWORKS:
        wide = [k for k, v in reach.items() if v == "net"]
        text = f"relays for mynetworks {sanitize(' '.join(wide), 80)}"
    elif state == RELAY_UNKNOWN:
        text = f"mynetworks = {sanitize(' '.join(networks), 80)} (tables not evaluated)"
    elif fatal:
        text = "relays nothing"
    else:
        sasl = "permit_sasl_authenticated" in relay_items + rcpt_items
        text = "relays only for this host" + (" and authenticated clients" if sasl else "")
    return RelayVerdict(state, text, fatal)


def worst(states: list[str]) -> str:
    """The most permissive of several relay states (RELAY_UNKNOWN when there is none)."""
    return max(states, key=_WORST.index) if states else RELAY_UNKNOWN

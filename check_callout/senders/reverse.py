"""The client's reverse DNS as strict receivers check it.

- a PTR exists (Postfix ``reject_unknown_reverse_client_hostname``: any PTR will do);
- forward-confirmed: a PTR name whose A/AAAA records hold the client's address (Exim
  ``verify = reverse_host_lookup``; Postfix's ``reject_unknown_client_hostname``).

A reverse name that is a CNAME (RFC 2317 classless delegation) is followed by the
resolver, as the receivers' resolvers follow it; a CNAME loop is the resolver's error
(cannot tell).  At most :data:`MAX_NAMES` PTR names are looked up forward, as receivers
bound it too.
"""

from __future__ import annotations

from check_callout.senders.lookup import LOOP, NONE, UNKNOWN, Found, reverse_name
from check_callout.senders.result import Check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.senders.lookup import Lookup

MAX_NAMES = 8


class Reverse:
    """The PTR answer for one client and each PTR name's forward answers."""

    __slots__ = ("client", "ptr", "forward")

    def __init__(self, client: str, ptr: Found, forward: dict[str, list[Found]]) -> None:
        self.client = client
        self.ptr = ptr
        self.forward = forward

    @property
    def confirmed_names(self) -> list[str]:
        """PTR names that resolve back to the client."""
        return [
            name
            for name, answers in self.forward.items()
            if any(self.client in a.values for a in answers if a.found)
        ]


def look_up(lookup: Lookup, client: str) -> Reverse:
    """The PTR of ``client`` and each name's A or AAAA (the client's family)."""
    ptr = lookup.ask(reverse_name(client), "PTR")
    family = "AAAA" if ":" in client else "A"
    names = [n for n in ptr.values if n and n != "."][:MAX_NAMES] if ptr.found else []
    forward = {}
    if names:
        answers = lookup.at_once([(name, family) for name in names], follow=True)
        forward = {name: [answer] for name, answer in zip(names, answers)}
    return Reverse(client, ptr, forward)


def ptr_check(reverse: Reverse) -> Check:
    ptr = reverse.ptr
    if ptr.found:
        return Check("ptr", "found", ptr.words())
    return Check("ptr", UNKNOWN if ptr.status == UNKNOWN else NONE, ptr.words())


def confirmed_check(reverse: Reverse) -> Check:
    ptr = reverse.ptr
    if not ptr.found:
        return Check(
            "ptr_confirmed", UNKNOWN if ptr.status == UNKNOWN else NONE, f"no PTR name ({ptr.words()})"
        )
    confirmed = reverse.confirmed_names
    answers = [a for found in reverse.forward.values() for a in found]
    seen = "; ".join(a.words() for a in answers[:4]) + (
        f"; +{len(answers) - 4} more" if len(answers) > 4 else ""
    )
    if confirmed:
        return Check(
            "ptr_confirmed", "confirmed", f"{confirmed[0]} resolves back to {reverse.client} ({seen})"
        )
    if any(a.status == UNKNOWN for answers in reverse.forward.values() for a in answers):
        return Check("ptr_confirmed", UNKNOWN, seen)
    if any(a.status == LOOP for answers in reverse.forward.values() for a in answers):
        return Check("ptr_confirmed", LOOP, seen)
    return Check("ptr_confirmed", "other", f"no PTR name resolves back to {reverse.client} ({seen})")

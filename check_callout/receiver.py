"""The receiver model: what a callout-verifying MTA does with what the probes saw.

Pure functions, no I/O: given the route (DNS) and the outcome of the dialogue with
each server address, decide what Exim's bare callout (``verify = sender/callout``)
answers the client that offered the sender.  The other receivers (Exim's callout
options, Postfix's ``reject_unverified_sender``) are profiles built on this in
:mod:`check_callout.receivers`.

Exim's rules (specification, "Callout verification"; observed on Exim 4.96):
hosts in MX preference order (equal preferences shuffled), each host's IPv6
addresses before IPv4; a 2xx to RCPT is success; a 5xx at the greeting, HELO, MAIL
or RCPT is a failure and ends the callout; anything else (refused, timeout, 4xx,
broken dialogue) moves on to the next address; when none is left the callout
defers.  No route at all (NXDOMAIN, null MX, no addresses) is a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby

from check_callout.net.routes import DNS_ERROR, NO_ADDRESS, NULL_MX, NXDOMAIN, SINGLE_LABEL

TYPE_CHECKING = False  # typing is not imported at run time: start-up time matters
if TYPE_CHECKING:
    from collections.abc import Mapping

    from check_callout.net.routes import Route

ACCEPT = "accept"
REJECT = "reject"
TEMPFAIL = "tempfail"
UNREACHABLE = "unreachable"
UNFINISHED = "unfinished"
BLIND = "blind"  # this host has no route of that family: the address was not seen

EXIM_ACCEPT = ACCEPT
EXIM_DEFER = "defer"
EXIM_REJECT = REJECT

EXIM_DEFER_REPLY = "451 Could not complete sender verify callout"
EXIM_REJECT_REPLY = "550 Sender verify failed"
EXIM_UNROUTEABLE_REPLY = "550 Unrouteable address / Sender verify failed"


class Outcome:
    """What one server address answered for one recipient."""

    __slots__ = ("kind", "phase", "code", "text", "time")

    def __init__(self, kind: str, phase: str = "", code: int = 0, text: str = "", time: float = 0.0) -> None:
        self.kind = kind  # ACCEPT, REJECT, TEMPFAIL, UNREACHABLE, UNFINISHED or BLIND
        self.phase = phase
        self.code = code
        self.text = text
        self.time = time

    def __repr__(self) -> str:
        return f"Outcome({self.kind!r}, {self.phase!r}, {self.code}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        mine = (self.kind, self.phase, self.code, self.text)
        return mine == (other.kind, other.phase, other.code, other.text)

    def __hash__(self) -> int:
        return hash((self.kind, self.phase, self.code, self.text))

    @property
    def decisive(self) -> bool:
        return self.kind in (ACCEPT, REJECT)

    def describe(self, limit: int = 200) -> str:
        """Plain words, e.g. ``rejects RCPT (550 5.1.1 unknown)``; reply cut at ``limit``."""
        text = self.text  # our own words are never cut, only a server's reply
        if self.code and len(text) > limit:
            text = text[: limit - 3].rstrip() + "..."
        reply = f"{self.code} {text}".strip() if self.code else text
        step = _PHASES.get(self.phase, self.phase.upper() or "the dialogue")
        verbs = {ACCEPT: f"accepts {step}", REJECT: f"rejects {step}", TEMPFAIL: f"defers {step}"}
        if self.kind in verbs:
            return f"{verbs[self.kind]} ({reply})" if reply else verbs[self.kind]
        return reply or self.kind


_PHASES = {
    "banner": "at the greeting",
    "ehlo": "EHLO",
    "helo": "HELO",
    "mail": "MAIL FROM",
    "rcpt": "RCPT",
    "starttls": "STARTTLS",
    "rset": "RSET",
}
SUMMARY_REPLY = 40  # characters of a server's reply quoted in a one-line reason


class Attempt:
    """One server address in the order a receiver tries them."""

    __slots__ = ("host", "preference", "address", "outcome", "implicit")

    def __init__(
        self, host: str, preference: int, address: str, outcome: Outcome, implicit: bool = False
    ) -> None:
        self.host = host
        self.preference = preference
        self.address = address
        self.outcome = outcome
        self.implicit = implicit

    def __repr__(self) -> str:
        return f"Attempt({self.host!r}, {self.preference}, {self.address!r}, {self.outcome!r})"


class Decision:
    """Exim's bare callout: its answer and why.

    ``exim`` is accept, defer or reject (None when the DNS cannot tell); ``deciding`` the
    attempt that decided;
    ``degraded`` the attempts passed over before it; ``unfinished`` those that had not
    answered in time; ``blind`` those this host cannot reach at all (no route of that
    address family here): a receiver elsewhere may reach them, so they are not the
    domain's fault, but neither were they seen.
    """

    def __init__(
        self,
        exim: str | None,
        exim_reply: str,
        reason: str,
        deciding: Attempt | None = None,
        attempts: list[Attempt] | None = None,
        degraded: list[Attempt] | None = None,
        unfinished: list[Attempt] | None = None,
        note: str = "",
        blind: list[Attempt] | None = None,
    ) -> None:
        self.exim = exim
        self.exim_reply = exim_reply
        self.reason = reason
        self.deciding = deciding
        self.attempts = attempts if attempts is not None else []
        self.degraded = degraded if degraded is not None else []
        self.unfinished = unfinished if unfinished is not None else []
        self.note = note
        self.blind = blind if blind is not None else []

    def __repr__(self) -> str:
        return f"Decision(exim={self.exim!r}, reason={self.reason!r})"


def _no_route(route: Route) -> Decision | None:
    if route.status in (NXDOMAIN, SINGLE_LABEL):
        return Decision(EXIM_REJECT, EXIM_UNROUTEABLE_REPLY, route.detail)
    if route.status in (NULL_MX, NO_ADDRESS):
        return Decision(EXIM_REJECT, EXIM_REJECT_REPLY, route.detail)
    if route.status == DNS_ERROR:
        return Decision(None, EXIM_DEFER_REPLY, route.detail, note="while the DNS fails, Exim defers")
    return None


def attempts_in_order(route: Route, outcomes: Mapping[str, Outcome]) -> list[Attempt]:
    """Every (host, address) of the route with its outcome, in the receiver's order."""
    attempts = []
    for host in route.hosts:
        for address in host.addresses:
            outcome = outcomes.get(address, Outcome(UNFINISHED, text="not probed"))
            attempts.append(Attempt(host.name, host.preference, address, outcome, host.implicit))
    return attempts


def decide(route: Route, outcomes: Mapping[str, Outcome]) -> Decision:
    """What Exim and Postfix answer, given the route and each address's outcome."""
    early = _no_route(route)
    if early is not None:
        return early
    attempts = attempts_in_order(route, outcomes)
    if not attempts:
        return Decision(
            EXIM_REJECT, EXIM_REJECT_REPLY, "no MX host of the domain has an address", attempts=attempts
        )
    passed: list[Attempt] = []
    for _pref, group_iter in groupby(attempts, key=lambda a: a.preference):
        # Exim shuffles hosts of equal preference, but one host's addresses keep their
        # order (IPv6 first): each host's verdict is its first decisive address.
        verdicts: list[tuple[Attempt, list[Attempt]]] = []
        undecided: list[Attempt] = []
        for _host, host_iter in groupby(group_iter, key=lambda a: a.host):
            tries = list(host_iter)
            decisive = next((a for a in tries if a.outcome.decisive), None)
            if decisive is None:
                undecided.extend(tries)
            else:
                verdicts.append((decisive, tries[: tries.index(decisive)]))
        if not verdicts:
            passed.extend(undecided)
            continue
        kinds = {d.outcome.kind for d, _ in verdicts}
        if len(kinds) == 1:
            chosen, before = verdicts[0]
            reason = f"{_where(chosen)} {chosen.outcome.describe(SUMMARY_REPLY)}"
        else:
            chosen, before = next(v for v in verdicts if v[0].outcome.kind == REJECT)
            accepting = next(d for d, _ in verdicts if d.outcome.kind == ACCEPT)
            reason = (
                f"MX hosts of equal preference disagree: {_where(chosen)} "
                f"{chosen.outcome.describe(SUMMARY_REPLY)} while {_where(accepting)} accepts; "
                "Exim picks one at random"
            )
        skipped = passed + undecided + before
        unfinished = [a for a in skipped if a.outcome.kind == UNFINISHED]
        blind = [a for a in skipped if a.outcome.kind == BLIND]
        degraded = [a for a in skipped if a.outcome.kind not in (UNFINISHED, BLIND)]
        if chosen.outcome.kind == ACCEPT:
            return Decision(
                EXIM_ACCEPT,
                "250 (the sender verifies)",
                reason,
                chosen,
                attempts,
                degraded,
                unfinished,
                blind=blind,
            )
        return Decision(
            EXIM_REJECT, EXIM_REJECT_REPLY, reason, chosen, attempts, degraded, unfinished, blind=blind
        )
    unfinished = [a for a in passed if a.outcome.kind == UNFINISHED]
    blind = [a for a in passed if a.outcome.kind == BLIND]
    reason = summarise(passed)
    return Decision(
        EXIM_DEFER,
        EXIM_DEFER_REPLY,
        reason or "no host could be asked",
        None,
        attempts,
        [],
        unfinished,
        blind=blind,
    )


def _where(attempt: Attempt) -> str:
    if attempt.host == attempt.address:
        return f"[{attempt.address}]"
    return f"{attempt.host} [{attempt.address}]"


def summarise(attempts: list[Attempt], limit: int = 3) -> str:
    """``host [a, b] refused port 25; ...``: addresses of one host that answered alike are
    named together, at most ``limit`` parts."""
    parts: list[tuple[str, list[str], str]] = []
    for attempt in attempts:
        what = attempt.outcome.describe(SUMMARY_REPLY)
        if parts and parts[-1][0] == attempt.host and parts[-1][2] == what:
            parts[-1][1].append(attempt.address)
        else:
            parts.append((attempt.host, [attempt.address], what))
    words = []
    for host, addresses, what in parts[:limit]:
        where = f"[{addresses[0]}]" if [host] == addresses else f"{host} [{', '.join(addresses)}]"
        words.append(f"{where} {what}")
    if len(parts) > limit:
        words.append(f"{len(parts) - limit} more")
    return "; ".join(words)

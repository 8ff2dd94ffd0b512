"""From what receivers would do to a monitoring state and a sentence.

The receiver model (:mod:`check_callout.receiver`) says accept, defer or reject; this
module turns that, and what else the run noticed (a preferred host down, an implicit
MX, a host that accepts anything), into OK/WARNING/CRITICAL/UNKNOWN with the reason in
plain words.
"""

from __future__ import annotations

from check_callout.address import is_non_public
from check_callout.kit.states import CRITICAL, OK, UNKNOWN, worst
from check_callout.net.dns import IMPLICIT
from check_callout.receiver import (
    EXIM_ACCEPT,
    EXIM_DEFER,
    REJECT,
    SUMMARY_REPLY,
    UNFINISHED,
    Attempt,
    Decision,
    summarise,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.engine import SenderResult
    from check_callout.settings import Policy


class Judgement:
    """A state, the one-line summary, and every note found."""

    def __init__(self, state: int, summary: str, notes: list[str] | None = None) -> None:
        self.state = state
        self.summary = summary
        self.notes = notes if notes is not None else []

    def __repr__(self) -> str:
        return f"Judgement({self.state}, {self.summary!r})"


def action_words(decision: Decision) -> str:
    """``an Exim receiver would defer (451 ...)``."""
    if decision.exim is None:
        return "an Exim receiver would defer while the DNS fails"
    if decision.exim == EXIM_ACCEPT:
        return "an Exim receiver would accept"
    return f"an Exim receiver would {decision.exim} ({decision.exim_reply})"


def _where(attempt: Attempt) -> str:
    return attempt.host if attempt.host == attempt.address else f"{attempt.host} [{attempt.address}]"


def judge(result: SenderResult, policy: Policy) -> Judgement:
    """The state and the one-line summary for one sender."""
    decision = result.decision
    route = result.route
    sender = result.sender.display
    prefix = ""
    if route.status == IMPLICIT:
        prefix = "no MX, implicit MX "
    if decision.exim is None:
        return Judgement(UNKNOWN, f"{sender}: {decision.reason}")
    if decision.exim == EXIM_DEFER and decision.unfinished:
        hosts = ", ".join(_where(a) for a in decision.unfinished[:3])
        answered = [a for a in decision.attempts if a.outcome.kind != UNFINISHED]
        so_far = f"; the others: {summarise(answered)}" if answered else ""
        return Judgement(UNKNOWN, f"{sender}: cannot tell, no answer in time from {hosts}{so_far}")
    summary = f"{sender}: {prefix}{decision.reason}; {action_words(decision)}"
    if decision.exim != EXIM_ACCEPT:
        return Judgement(CRITICAL, summary)
    found: list[tuple[int, str]] = []
    for attempt in decision.degraded:
        what = attempt.outcome.describe(SUMMARY_REPLY)
        found.append((policy.degraded, f"more preferred {_where(attempt)} {what}"))
    for attempt in decision.unfinished:
        found.append((policy.degraded, f"{_where(attempt)} had not answered in time"))
    deciding = decision.deciding
    for attempt in decision.attempts:
        if attempt.outcome.kind == REJECT and deciding is not None and attempt is not deciding:
            found.append(
                (
                    policy.degraded,
                    f"MX answers disagree: {_where(attempt)} "
                    f"{attempt.outcome.describe(SUMMARY_REPLY)}; a receiver that asks it first "
                    "(IPv4-only, or the preferred host down) would reject",
                )
            )
            break
    if route.status == IMPLICIT:
        found.append((policy.implicit_mx, "no MX record: mail relies on the implicit MX (RFC 5321 5.1)"))
    if not policy.explicit_host and policy.private != OK:
        private = sorted({a.address for a in decision.attempts if is_non_public(a.address)})
        if private:
            found.append((policy.private, f"MX points at a non-public address ({', '.join(private[:3])})"))
    if result.random_decision is not None and result.random_decision.exim == EXIM_ACCEPT:
        found.append(
            (
                policy.accept_all,
                f"accepts any local part (random {result.random_address} accepted): "
                "the callout proves little",
            )
        )
    pm = result.postmaster_decision
    if pm is not None and pm.exim != EXIM_ACCEPT:
        found.append(
            (
                policy.postmaster,
                f"postmaster@{result.sender.domain} not accepted ({pm.reason}); RFC 5321 requires it",
            )
        )
    if route.skipped_hosts:
        found.append((OK, f"{route.skipped_hosts} more MX hosts not probed (--max-hosts)"))
    state = worst([OK] + [s for s, _ in found])
    if state != OK:  # the reason for the warning first: the line may be cut
        first = next(note for s, note in found if s == state)
        summary = f"{sender}: {first}; {prefix}{decision.reason}, so {action_words(decision)}"
    return Judgement(state, summary, [note for _, note in found])

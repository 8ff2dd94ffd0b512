"""Exim's ``verify = sender/callout`` and its options, as receiver profiles.

The bare callout is :func:`check_callout.receiver.decide`; the options change it:

- ``defer_ok``: a callout that defers lets the sender through (250);
- ``random``: each host is first asked for a random local part; when it accepts that,
  the domain is taken as accepting everything and the sender itself is not asked;
- ``postmaster``: after the sender is accepted, the same host must accept
  ``postmaster@domain`` too (with ``MAIL FROM:<>``), or the sender fails.

Replies as Exim 4.96 sends them (seen in the lab, ``tests/data/receivers``): 250
``Accepted``; 451 ``Could not complete sender verify callout``; 550 with detail lines
(``Verification failed for <x>``, ``Called:``, ``Sent:``, ``Response:``) ending in
``Sender verify failed``.  A failure at or before ``MAIL FROM:<>`` is worded "Callback
setup failed", a refused postmaster "Postmaster verification failed".  The explanation
Exim adds for those two is not reproduced here ("...").
"""

from __future__ import annotations

from check_callout.net.routes import NULL_MX, NXDOMAIN, SINGLE_LABEL
from check_callout.receiver import ACCEPT as KIND_ACCEPT
from check_callout.receiver import REJECT as KIND_REJECT
from check_callout.receiver import Attempt, Decision, Outcome, decide
from check_callout.receivers.profile import ACCEPT, DEFER, REJECT, Prediction, Profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.receivers.evidence import Evidence

ACCEPTED = (250, "Accepted")
DEFERRED = (451, "Could not complete sender verify callout")
FAILED = "Sender verify failed"
_SENT = {"rcpt": "RCPT TO:<{rcpt}>", "mail": "MAIL FROM:<>"}


def predict_exim(profile: Profile, evidence: Evidence, decision: Decision | None = None) -> Prediction:
    """What an Exim receiver with ``profile``'s callout options answers."""
    sender = evidence.sender
    outcomes = evidence.outcomes(sender)
    if profile.random and evidence.random:
        outcomes = _random_first(outcomes, evidence.outcomes(evidence.random))
        decision = decide(evidence.route, outcomes)
    elif decision is None:
        decision = decide(evidence.route, outcomes)
    if decision.exim is None:
        return Prediction(profile, None, *DEFERRED, reason=decision.reason)
    if decision.exim == DEFER:
        if profile.defer_ok:
            return Prediction(
                profile, ACCEPT, *ACCEPTED, reason=f"{decision.reason}: the callout defers, defer_ok accepts"
            )
        return Prediction(profile, DEFER, *DEFERRED, reason=decision.reason)
    if decision.exim == REJECT:
        return Prediction(
            profile, REJECT, 550, _failure_text(profile, evidence, decision), reason=decision.reason
        )
    if profile.postmaster and evidence.postmaster and decision.deciding is not None:
        return _postmaster(profile, evidence, decision)
    return Prediction(profile, ACCEPT, *ACCEPTED, reason=decision.reason)


def _random_first(real: dict[str, Outcome], random: dict[str, Outcome]) -> dict[str, Outcome]:
    """Each address's outcome as ``callout=random`` sees it: a random local part accepted
    stands for the sender."""
    seen = {}
    for address, outcome in real.items():
        first = random.get(address)
        if first is not None and first.kind == KIND_ACCEPT:
            outcome = Outcome(
                KIND_ACCEPT,
                first.phase,
                first.code,
                f"{first.text} (a random local part: taken as accept-all)",
                first.time,
            )
        seen[address] = outcome
    return seen


def _postmaster(profile: Profile, evidence: Evidence, decision: Decision) -> Prediction:
    deciding = decision.deciding
    asked = evidence.outcomes(evidence.postmaster).get(deciding.address)
    where = deciding.host if deciding.host == deciding.address else f"{deciding.host} [{deciding.address}]"
    if asked is None or asked.kind == KIND_ACCEPT:
        return Prediction(profile, ACCEPT, *ACCEPTED, reason=decision.reason)
    reason = f"{where} {asked.describe(40)} for {evidence.postmaster}"
    if asked.kind == KIND_REJECT:
        text = _details(
            f"Postmaster verification failed while checking <{evidence.sender}>",
            deciding,
            f"RCPT TO:<{evidence.postmaster}>",
            asked,
            explained=True,
        )
        return Prediction(profile, REJECT, 550, text, reason=reason)
    return Prediction(profile, DEFER, *DEFERRED, reason=reason)


def _failure_text(profile: Profile, evidence: Evidence, decision: Decision) -> str:
    route = evidence.route
    # a single-label domain: the lab's Exim 4.96 (its resolver answering NXDOMAIN for
    # the single label) said "Unrouteable address", as for a domain that does not exist
    if route.status in (NXDOMAIN, SINGLE_LABEL):
        return f"Verification failed for <{evidence.sender}>\nUnrouteable address\n{FAILED}"
    deciding = decision.deciding
    if route.status == NULL_MX or deciding is None:
        return FAILED
    outcome = deciding.outcome
    if outcome.phase == "rcpt" or profile.random:
        sent = _SENT.get(outcome.phase, "").format(rcpt=evidence.sender)
        return _details(f"Verification failed for <{evidence.sender}>", deciding, sent, outcome)
    return _details(
        f"Callback setup failed while verifying <{evidence.sender}>",
        deciding,
        _SENT.get(outcome.phase, ""),
        outcome,
        explained=True,
    )


def _details(head: str, attempt: Attempt, sent: str, outcome: Outcome, explained: bool = False) -> str:
    lines = [head, f"Called:   {attempt.address}"]
    if sent:
        lines.append(f"Sent:     {sent}")
    reply = " ".join(outcome.text.split())
    lines.append(f"Response: {outcome.code} {reply}".rstrip())
    if explained:
        lines.append("...")
    lines.append(FAILED)
    return "\n".join(lines)

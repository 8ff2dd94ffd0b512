"""From what receivers would do to a monitoring state and a sentence.

The receiver model (:mod:`check_callout.receiver`) says accept, defer or reject; this
module turns that, and what else the run noticed (a preferred host down, an implicit
MX, a host that accepts anything), into OK/WARNING/CRITICAL/UNKNOWN with the reason in
plain words.
"""

from __future__ import annotations

from check_callout.address import is_non_public
from check_callout.kit.states import CRITICAL, OK, UNKNOWN, worst
from check_callout.net.routes import IMPLICIT, NO_ADDRESS, NXDOMAIN
from check_callout.receiver import (
    ACCEPT,
    BLIND,
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
    from check_callout.receivers import Prediction
    from check_callout.settings import Policy


DISAGREE = "receivers disagree"


class Judgement:
    """A state, the one-line summary, and every note found.

    ``keep`` is the end of ``summary`` that names what the deciding receiver would do: a
    summary too long for the first line is cut before it, never inside it."""

    def __init__(self, state: int, summary: str, notes: list[str] | None = None, keep: str = "") -> None:
        self.state = state
        self.summary = summary
        self.notes = notes if notes is not None else []
        self.keep = keep

    def __repr__(self) -> str:
        return f"Judgement({self.state}, {self.summary!r})"


def action_words(decision: Decision, prediction: Prediction | None = None) -> str:
    """``an Exim receiver would defer (451 ...)``, for the deciding receiver's prediction
    (Exim's bare callout when there is none)."""
    if prediction is None or (prediction.profile.name == "exim" and decision.exim is not None):
        if decision.exim is None:
            return "an Exim receiver would defer while the DNS fails"
        if decision.exim == EXIM_ACCEPT:
            return "an Exim receiver would accept"
        return f"an Exim receiver would {decision.exim} ({decision.exim_reply})"
    label = prediction.profile.label
    if prediction.action is None:
        if getattr(prediction, "failing", None) is not None and prediction.code:
            # a strict receiver whose lookup fails: what it answers while that lasts
            return f"cannot tell: {label} answers {prediction.code} while that lookup fails"
        return f"{label} would defer while it cannot verify"
    words = []
    for action, code, text in [(prediction.action, prediction.code, prediction.text), *prediction.also]:
        word = action if action == ACCEPT else f"{action} ({short_reply(prediction, code, text)})"
        if word not in words:
            words.append(word)
    return f"{label} would {' or '.join(words)}"


def short_reply(prediction: Prediction, code: int, text: str) -> str:
    """A receiver's reply in a few words: ``450 4.1.7 unverified address``,
    ``550 Sender verify failed``."""
    if prediction.profile.family == "postfix" and "due to: " in text:
        # policyd-spf: ``... Message rejected due to: SPF fail - not authorized. Please see ...``
        return f"{code} {text.split()[0]} {text.split('due to: ', 1)[1].split('. ', 1)[0]}"
    if prediction.profile.family == "postfix" and " rejected: " in text and " address rejected: " not in text:
        # ``Helo command rejected: ...``, ``Client host rejected: cannot find your reverse hostname, [IP]``
        return f"{code} {text.split()[0]} {text.split(' rejected: ', 1)[1].split(', ', 1)[0]}"
    if prediction.profile.family == "postfix":
        marker = " address rejected: "
        words = text.split(marker, 1)[1].split(":", 1)[0] if marker in text else text
        return f"{code} {text.split()[0]} {words}" if text else str(code)
    if getattr(prediction, "failing", None) is not None:  # a strict receiver's sender check
        return f"{code} {' '.join(text.split()).split('. ', 1)[0]}"
    lines = text.splitlines()
    return f"{code} {lines[-1]}" if lines else str(code)


def disagreement(predictions: list[Prediction]) -> str:
    """`` (receivers disagree: postfix defer (450))`` when one receiver would take the mail
    and another would not (a 550 beside a 450 is no disagreement: neither takes it)."""
    if len(predictions) < 2:
        return ""
    deciding = predictions[0]

    def takes(p: Prediction) -> set[bool]:
        return {a == ACCEPT for a in p.actions}

    others = [p for p in predictions[1:] if takes(p) != takes(deciding)]
    if not others:
        return ""
    more = f", +{len(others) - 1} more" if len(others) > 1 else ""
    return f" ({DISAGREE}: {others[0].profile.name} {others[0].word()}{more})"


def _where(attempt: Attempt) -> str:
    return attempt.host if attempt.host == attempt.address else f"{attempt.host} [{attempt.address}]"


def _passed_over(attempt: Attempt, deciding: Attempt | None) -> str:
    """How an address passed over before the deciding one relates to it: "more
    preferred" only for a host of lower preference value."""
    if deciding is None or attempt.preference < deciding.preference:
        return "more preferred"
    if attempt.host == deciding.host:
        return "other address of the same host:"
    return "host of equal preference"


def _blind_note(decision: Decision) -> str:
    """Addresses this host cannot reach at all, and why that is not the domain's fault."""
    where = ", ".join(_where(a) for a in decision.blind[:3])
    more = f" (+{len(decision.blind) - 3} more)" if len(decision.blind) > 3 else ""
    return (
        f"{where}{more} not probed: {_family_words(decision.blind[0])}; not the domain's fault, a "
        "receiver with that address family asks it (--unreachable-family warning: a WARNING)"
    )


def _family_words(attempt: Attempt) -> str:
    """``this host reaches no IPv6 address (Network is unreachable)``."""
    family = "IPv6" if ":" in attempt.address else "IPv4"
    text = attempt.outcome.text
    why = text[text.find("(") :] if "(" in text else ""
    return f"this host reaches no {family} address {why}".strip()


def judge(result: SenderResult, policy: Policy) -> Judgement:
    """The state and the one-line summary for one sender."""
    decision = result.decision
    route = result.route
    sender = result.sender.display
    predictions = result.predictions
    deciding_p = predictions[0] if predictions else None
    exim_decides = deciding_p is None or deciding_p.profile.family == "exim"
    words = action_words(decision, deciding_p) + disagreement(predictions)
    prefix = ""
    if route.status == IMPLICIT:
        prefix = "no MX, implicit MX "
    if decision.exim is None:
        return Judgement(UNKNOWN, f"{sender}: {decision.reason}; {words}", keep=f"; {words}")
    if policy.explicit_host and route.status in (NXDOMAIN, NO_ADDRESS):
        # -H is the operator's choice of host: one that does not resolve is a mistake in
        # the check's own arguments, not a verdict on the sender
        return Judgement(UNKNOWN, f"{sender}: cannot tell: -H {route.domain}: {route.detail}")
    if decision.unfinished and (decision.exim == EXIM_DEFER or deciding_p and deciding_p.action is None):
        hosts = ", ".join(_where(a) for a in decision.unfinished[:3])
        answered = [a for a in decision.attempts if a.outcome.kind != UNFINISHED]
        so_far = f"; the others: {summarise(answered)}" if answered else ""
        return Judgement(UNKNOWN, f"{sender}: cannot tell, no answer in time from {hosts}{so_far}")
    if decision.blind and (decision.exim == EXIM_DEFER or deciding_p and deciding_p.action is None):
        # a receiver that can reach those addresses may well accept: not seen, not judged
        hosts = ", ".join(_where(a) for a in decision.blind[:3])
        others = [a for a in decision.attempts if a.outcome.kind != BLIND]
        so_far = f"; the others: {summarise(others)}" if others else ""
        why = _family_words(decision.blind[0])
        return Judgement(
            UNKNOWN, f"{sender}: cannot tell, {hosts} not probed: {why}{so_far}", [_blind_note(decision)]
        )
    action = decision.exim if deciding_p is None else deciding_p.action
    reason = decision.reason
    if deciding_p is not None and (
        not exim_decides or (deciding_p.profile.name != "exim" and action != decision.exim)
    ):
        reason = deciding_p.reason or reason
    summary = f"{sender}: {prefix}{reason}; {words}"
    if action is None:
        return Judgement(UNKNOWN, summary, keep=f"; {words}")
    if action != EXIM_ACCEPT:
        return Judgement(CRITICAL, summary, keep=f"; {words}")
    found: list[tuple[int, str]] = []
    deciding = decision.deciding
    for attempt in decision.degraded:
        what = attempt.outcome.describe(SUMMARY_REPLY)
        found.append((policy.degraded, f"{_passed_over(attempt, deciding)} {_where(attempt)} {what}"))
    if decision.blind:
        found.append((policy.blind_family, _blind_note(decision)))
    for attempt in decision.unfinished:
        found.append((policy.degraded, f"{_where(attempt)} had not answered in time"))
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
    if result.sender_checks is not None:
        from check_callout.senders.judging import sender_findings

        found.extend(sender_findings(predictions, result.sender_checks))
    for other in predictions[1:]:
        if any(a != EXIM_ACCEPT for a in other.actions):
            found.append((policy.degraded, f"{DISAGREE}: {action_words(decision, other)}"))
    if deciding_p is not None and len(deciding_p.actions) > 1:
        found.append(
            (policy.degraded, f"{action_words(decision, deciding_p)}: it picks hosts or addresses at random")
        )
    if route.skipped_hosts:
        found.append((OK, f"{route.skipped_hosts} more MX hosts not probed (--max-hosts)"))
    state = worst([OK] + [s for s, _ in found])
    if state != OK:  # the reason for the warning first: the line may be cut, never its end
        first = next(note for s, note in found if s == state)
        if first.startswith(DISAGREE):  # already said at the end
            return Judgement(state, summary, [note for _, note in found], keep=f"; {words}")
        summary = f"{sender}: {first}; {prefix}{reason}, so {words}"
        return Judgement(state, summary, [note for _, note in found], keep=f", so {words}")
    return Judgement(state, summary, [note for _, note in found], keep=f"; {words}")

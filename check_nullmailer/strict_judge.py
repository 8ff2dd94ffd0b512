"""Judging the strict receivers' sender checks of ``--local`` (:mod:`check_nullmailer.strict`).

- a check the deciding receiver (``exim:strict``) would refuse (reject or defer):
  CRITICAL, naming the check and the receiver's answer, with the fix;
- refused only by the other (``postfix:strict``): WARNING, as a disagreement of
  receivers is for the callout;
- a check that could not tell (a lookup that failed or timed out, an egress address
  not known or not public): WARNING, never OK;
- an SPF ``softfail``: WARNING (both strict receivers accept it, but spam filters score
  it, and it means the domain's owner did not list this address);
- otherwise OK, without a word on the first line (the callout's verdict is the origin
  part's).
"""

from __future__ import annotations

from typing import Any

import nagiosplugin

from check_callout.kit.result import Finding
from check_callout.kit.states import CRITICAL, OK, WARNING, to_nagios

REFUSED = ("reject", "defer")
SOFT = ("softfail",)


def _answer(prediction: Any) -> str:
    text = " ".join(str(prediction.text).split())
    if len(text) > 70:
        text = text[:67] + "..."
    return f"{prediction.code} {text}".strip()


def _failing_words(prediction: Any) -> str:
    from check_callout.senders.result import TITLES

    check = prediction.failing
    word = "cannot tell" if check.outcome == "unknown" else check.outcome
    # Exim's spf condition checks the MAIL FROM identity (libspf2's evaluation)
    title = "SPF of the MAIL FROM domain" if check.key == "spf_exim" else TITLES.get(check.key, check.key)
    return f"{title} {word}"


def judge_strict(report: Any) -> tuple[int, str]:
    """The state and the first-line words for the strict receivers' sender checks."""
    where = _where(report)
    if report.plan.blind:
        return WARNING, f"sender checks ({where}): cannot tell: {report.plan.blind}"
    if not report.predictions:
        return WARNING, f"sender checks ({where}): cannot tell: they did not run"
    deciding = report.predictions[0]
    others = report.predictions[1:]
    fix = f"; {report.fixes[0]}" if report.fixes else ""
    if deciding.failing is not None and deciding.action in REFUSED:
        label, answer = deciding.profile.label, _answer(deciding)
        return (
            CRITICAL,
            f"{_failing_words(deciding)} ({where}): {label} would {deciding.action} ({answer}){fix}",
        )
    if deciding.failing is not None and deciding.action is None:
        return WARNING, f"sender checks ({where}): cannot tell: {deciding.reason}"
    for other in others:
        if other.failing is not None and other.action in REFUSED:
            return WARNING, (
                f"{_failing_words(other)} ({where}): {other.profile.label} would {other.action} "
                f"({_answer(other)}), {deciding.profile.label} would not{fix}"
            )
        if other.failing is not None and other.action is None:
            return WARNING, f"sender checks ({where}): cannot tell: {other.reason}"
    blind = [c for p in report.predictions for c in getattr(p, "blind", ())]
    if blind:
        what = "; ".join(dict.fromkeys(c.line() for c in blind))
        return WARNING, f"sender checks ({where}): cannot tell: {what}"
    soft = [
        c
        for checks in report.checks.per_client.values()
        for c in checks.values()
        if c.key in ("spf_mfrom", "spf_helo") and c.outcome in SOFT
    ]
    if soft:
        from check_callout.senders.result import TITLES

        title = TITLES.get(soft[0].key, soft[0].key)
        said = "strict receivers accept it, but spam filters score a softfail"
        return WARNING, f"{title} softfail ({where}): {said}{fix}"
    if deciding.action in REFUSED:
        return OK, f"sender checks pass ({where}); the callout decides (envelope origin)"
    return OK, f"sender checks pass ({where})"


def _where(report: Any) -> str:
    from check_nullmailer.mta.egress import SMARTHOST

    egress = report.egress
    clients = ", ".join(report.plan.clients) or ", ".join(egress.sources) or "address unknown"
    if egress.route == SMARTHOST:
        return f"{report.sender} through the smarthost {egress.smarthost} [{clients}]"
    return f"{report.sender} from {clients} as {egress.helo or 'HELO unknown'}"


class StrictContext(nagiosplugin.Context):
    """The strict receivers' sender checks; OK says nothing on the first line."""

    def __init__(self) -> None:
        super().__init__("strict", result_cls=Finding)

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Finding:
        state, text = judge_strict(metric.value)
        return Finding(to_nagios(state), text if state != OK else None, metric, (text,))


def strict_lines(report: Any, state: str, text: str) -> list[str]:
    """The long output: the verdict, each receiver's answer, one line per check, the fixes."""
    from check_nullmailer.mta.egress import SMARTHOST

    lines = [f"[{state}] {text}"]
    for p in report.predictions:
        word = p.action or "cannot tell"
        answer = f" ({_answer(p)})" if p.action else ""
        lines.append(f"  {p.profile.name}: {word}{answer} - {p.reason}")
    if report.checks is not None:
        lines.extend(f"  {line}" for line in report.checks.lines())
    if report.egress.route == SMARTHOST:
        lines.append(
            f"  note: receivers see the smarthost {report.egress.smarthost}: its HELO name and reverse DNS "
            "are its own (not judged here); SPF of the envelope domain is checked for its addresses"
        )
    lines.extend(f"  fix: {fix}" for fix in report.fixes)
    return lines


def alt_words(report: Any) -> str:
    """What the strict receivers say of the fix's domain, for the origin's verdict:
    "" when they take it (or were not asked)."""
    if report is None or not report.alt_predictions:
        return ""
    deciding = report.alt_predictions[0]
    refused = [p for p in report.alt_predictions if p.failing is not None and p.action in REFUSED]
    if not refused and deciding.action is not None:
        return ""
    if not refused:
        return f"strict receivers cannot tell ({deciding.reason})"
    p = refused[0]
    change = "; ".join(report.alt_fixes) or "use a domain that passes"
    return f"but {p.profile.label} would {p.action} it from here ({_failing_words(p)}): {change}"


def alt_lines(report: Any) -> list[str]:
    """The strict receivers' answers for the fix's domain, and what to change there."""
    lines = []
    for p in report.alt_predictions:
        word = p.action or "cannot tell"
        answer = f" ({_answer(p)})" if p.action else ""
        lines.append(f"strict receivers, {p.profile.name}: {word}{answer} - {p.reason}")
    lines.extend(f"fix there: {fix}" for fix in report.alt_fixes)
    return lines

"""check_nullmailer's Summary: the worst findings first on the first line, within its
length; every part in the long output.  It only words: states and details come from
the contexts (results), measured values from ``result.metric`` and ``result.resource``.
"""

from __future__ import annotations

from typing import Any

import nagiosplugin

from check_callout.kit.output import age, fit, plural, summary_limit

NAME = "NULLMAILER"
_QUEUE_METRICS = ("deferred", "callout_deferred")


class NullmailerSummary(nagiosplugin.Summary):
    """The worst findings first on the first line; every part in the long output."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    def _hints(self, results: nagiosplugin.Results, states: set[Any]) -> list[str]:
        """Hints that explain the overall state first, then the rest by severity; among
        equals the envelope origin first (the reason this check exists)."""
        picked = [r for r in results if r.state in states and r.hint]
        order = {nagiosplugin.Critical: 0, nagiosplugin.Unknown: 1, nagiosplugin.Warn: 2, nagiosplugin.Ok: 3}
        overall = max((r.state for r in results), default=nagiosplugin.Ok)
        parts = {"origin": 0, "strict": 1, "relay": 2}
        picked.sort(
            key=lambda r: (
                r.state != overall,
                order.get(r.state, 4),
                parts.get(r.metric.context if r.metric else "", 3),
            )
        )
        return _merge_closed([str(r.hint) for r in picked])

    def ok(self, results: nagiosplugin.Results) -> str:
        return _summary(self._hints(results, {nagiosplugin.Ok})) or "all parts OK"

    def problem(self, results: nagiosplugin.Results) -> str:
        hints = self._hints(results, {nagiosplugin.Critical, nagiosplugin.Unknown, nagiosplugin.Warn})
        return _summary(hints)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines: list[str] = []
        for result in results:
            metric = result.metric
            if metric is None:
                continue
            value = metric.value
            if metric.context == "relay":
                lines.append(f"[{result.state}] {result.hint}")
                lines.extend(f"  {d}" for d in result.details)
                if self.verbosity >= 1:
                    for battery in value.batteries:
                        for test in battery.tests + ([battery.inbound] if battery.inbound else []):
                            lines.append(f"    {battery.where} {test.outcome}: {test.describe()}")
                            if test.note():
                                lines.append(f"      ({test.note()})")
                if self.verbosity >= 2:
                    lines.extend(f"    {line}" for line in value.transcript)
            elif metric.context == "exposure":
                lines.append(f"[{result.state}] exposure: {result.hint}")
                listeners = ", ".join(str(item) for item in value.listeners) or "none"
                lines.append(f"  listening SMTP sockets: {listeners}")
                info = value.info
                if info is not None:
                    lines.append(f"  {info.label} configuration ({info.config or 'not found'}):")
                    if info.listen_text:
                        lines.append(f"    {info.listen_text}")
                    if info.relay_text and all(s.plain for s in info.services) and len(info.services) <= 1:
                        lines.append(f"    relay: {info.relay_text}")
                    if len(info.services) > 1 or any(not s.plain for s in info.services):
                        lines.extend(f"    {service_line(s)}" for s in info.services[:20])
                    lines.extend(f"    note: {note}" for note in info.notes)
            elif metric.context == "origin":
                lines.append(f"[{result.state}] envelope origin: {value.origin_text}")
                from check_callout.report import describe_result

                notes, alt_notes = result.details
                lines.extend(f"  {line}" for line in describe_result(value.result, self.verbosity, notes))
                if result.state != nagiosplugin.Ok and result.hint:
                    lines.append(
                        f"  verdict: {result.hint}"
                    )  # whole, with the fix: the first line may cut it
                if value.alternative is not None and result.state != nagiosplugin.Ok:
                    lines.append("  the suggested fix, checked:")
                    alt = describe_result(value.alternative, self.verbosity, alt_notes)
                    lines.extend(f"    {line}" for line in alt)
                    if value.strict is not None:
                        from check_nullmailer.strict_judge import alt_lines

                        lines.extend(f"    {line}" for line in alt_lines(value.strict))
            elif metric.context == "strict":
                from check_nullmailer.strict_judge import strict_lines

                lines.extend(strict_lines(value, str(result.state), result.details[0]))
            elif metric.context == "egress":
                from check_nullmailer.local_judge import egress_lines

                first, *rest = egress_lines(value)
                lines.append(f"[{result.state}] {first}")
                lines.extend(rest)
            elif metric.context == "callout_deferred" or metric.name == "deferred":
                if metric.name == "deferred":
                    queue = result.resource.queue
                    if queue is None:
                        continue
                    called = "not known" if queue.callout_deferred is None else queue.callout_deferred
                    called = f"at least {called}" if queue.capped and queue.callout_deferred else called
                    oldest = f" (oldest {age(queue.oldest_deferred)})" if queue.deferred else ""
                    state = max(
                        (
                            r.state
                            for r in results
                            if r.metric is not None and r.metric.name in _QUEUE_METRICS
                        ),
                        default=result.state,
                    )
                    least = "at least " if queue.capped else ""
                    lines.append(
                        f"[{state}] queue ({queue.source}): {least}{plural(queue.messages, 'message')}, "
                        f"{least}{queue.deferred} deferred{oldest}, "
                        f"by callouts: {called}"
                    )
                    lines.extend(f"  {example}" for example in queue.examples)
                    lines.extend(f"  note: {note}" for note in queue.notes)
                    if queue.callout_deferred:
                        lines.append(f"  note: {_requeue_hint(result.resource.mta)}")
            elif metric.context in ("problem", "queue_unread"):
                lines.append(f"[{result.state}] {result.hint}")
        return lines


def _requeue_hint(mta: str) -> str:
    """What to do about mail queued before the fix, in the MTA's own terms."""
    from check_nullmailer.mta import REGISTRY
    from check_nullmailer.mta.base import REQUEUE_GENERIC

    return REGISTRY[mta].requeue if mta in REGISTRY else REQUEUE_GENERIC


def _merge_closed(hints: list[str]) -> list[str]:
    """``not listening on 25``, ``not listening on 465`` -> ``not listening on 25, 465``."""
    closed = [h[len("not listening on ") :] for h in hints if h.startswith("not listening on ")]
    if len(closed) < 2:
        return hints
    merged: list[str] = []
    for hint in hints:
        if hint.startswith("not listening on "):
            if closed:
                merged.append("not listening on " + ", ".join(closed))
                closed = []
            continue
        merged.append(hint)
    return merged


def _summary(hints: list[str]) -> str:
    """Whole hints, worst first, within the first line's limit."""
    return fit(hints, summary_limit(NAME))


def service_line(service: Any) -> str:
    """One SMTP service of the configuration: where it listens and how it relays."""
    where = "beyond loopback" if service.public else "on loopback"
    what = service.fatal or f"relay: {service.relay_text}"
    return f"service {service.name}: listens {where}; {what}"

"""check_callout's nagiosplugin parts, in the library's own roles:

- :class:`Callout` (Resource) only measures: DNS and probes through the engine, one
  metric per sender (the :class:`~check_callout.engine.SenderResult`) and the times;
- :class:`CalloutContext` only judges: :func:`check_callout.judge.judge` once per sender,
  its notes kept on the result (:class:`~check_callout.kit.result.Finding`);
- :class:`CalloutSummary` only words: the worst sender first, every host below.
"""

from __future__ import annotations

import nagiosplugin

from check_callout.kit.output import Seconds, cut_words, summary_limit
from check_callout.kit.result import Finding
from check_callout.kit.states import to_nagios
from check_callout.kit.text import perf_label, sanitize
from check_callout.receiver import ACCEPT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from check_callout.address import Address
    from check_callout.settings import CalloutSettings, Policy, SenderCheckSettings

NAME = "CALLOUT"


class Callout(nagiosplugin.Resource):
    """Measures: resolves, probes, and hands each sender's result to the contexts."""

    def __init__(
        self,
        senders: tuple[Address, ...],
        options: CalloutSettings,
        deadline: float,
        sender_checks: SenderCheckSettings | None = None,
    ) -> None:
        self.senders = senders
        self.options = options
        self.deadline = deadline
        self.sender_checks = sender_checks

    @property
    def name(self) -> str:
        return NAME

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        if self.sender_checks is None:
            from check_callout.engine import run_callouts

            results = run_callouts(self.senders, self.options, self.deadline)
        else:
            from check_callout.strict_engine import run_with_sender_checks

            results = run_with_sender_checks(self.senders, self.options, self.sender_checks, self.deadline)
        for result in results:
            yield nagiosplugin.Metric(f"sender {result.sender.display}", result, context="callout")
        # The deciding dialogue's time; when no host decides (a defer), the longest
        # dialogue; when nothing was probed (NXDOMAIN, null MX), the DNS lookup: the
        # label is always there for graphs.
        times = [t for t in (r.deciding_time for r in results) if t is not None]
        if not times:
            times = [d.total for r in results for d in r.dialogues]
        if not times:
            times = [r.route.lookup_time for r in results]
        yield nagiosplugin.Metric("time", Seconds(max(times, default=0.0)), "s", min=0, context="time")
        hosts: dict[str, set[str]] = {}
        accepting: set[str] = set()
        for result in results:
            for attempt in result.decision.attempts:
                hosts.setdefault(attempt.host, set()).add(attempt.address)
                if attempt.outcome.kind == ACCEPT:
                    accepting.add(attempt.host)
        checked = [r.sender_checks.took for r in results if r.sender_checks is not None]
        if checked:  # the sender checks' wall time (they run beside the probes)
            yield nagiosplugin.Metric("sender_checks", Seconds(max(checked)), "s", min=0, context="host_time")
        yield nagiosplugin.Metric("mx_hosts", len(hosts), min=0, context="count")
        yield nagiosplugin.Metric("mx_accepting", len(accepting), min=0, context="count")
        # One label per MX host, the longest of its addresses' dialogues: a host that
        # gains an address keeps its label (graphs do not break), and a host with fifty
        # addresses adds one item, not fifty (the first line stays within NRPE's 1 KiB).
        per_host: dict[str, float] = {}
        for result in results:
            for dialogue in result.dialogues:
                if dialogue.total > 0:
                    per_host[dialogue.host] = max(per_host.get(dialogue.host, 0.0), dialogue.total)
        for host, took in per_host.items():
            label = perf_label(f"time_{host}")
            yield nagiosplugin.Metric(label, Seconds(took), "s", min=0, context="host_time")


class CalloutContext(nagiosplugin.Context):
    """Judges one sender's result with the user's policy."""

    def __init__(self, policy: Policy) -> None:
        super().__init__("callout", result_cls=Finding)
        self.policy = policy

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Finding:
        from check_callout.judge import judge

        judgement = judge(metric.value, self.policy)
        return Finding(to_nagios(judgement.state), judgement.summary, metric, judgement.notes, judgement.keep)


class CalloutSummary(nagiosplugin.Summary):
    """Words the result: the worst sender first; every host in the long output."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    @staticmethod
    def _callout_results(results: nagiosplugin.Results) -> list[Finding]:
        return [r for r in results if r.metric is not None and r.metric.context == "callout"]

    def ok(self, results: nagiosplugin.Results) -> str:
        callouts = self._callout_results(results)
        if len(callouts) == 1:
            return _short(callouts[0].hint, keep=callouts[0].keep)
        return _short(f"{len(callouts)} senders pass callouts; {callouts[0].hint}", keep=callouts[0].keep)

    def problem(self, results: nagiosplugin.Results) -> str:
        worst = results.most_significant
        callouts = self._callout_results(results)
        bad = [r for r in callouts if r.state != nagiosplugin.Ok]
        first = next((r for r in worst if r.metric is not None and r.metric.context == "callout"), None)
        if first is None:
            first = worst[0]
            hint = f"{first.metric.name} {first.hint}" if first.metric is not None else str(first)
            return _short(hint)
        more = f" (+{len(bad) - 1} more senders not OK)" if len(bad) > 1 else ""
        return _short(first.hint, more, getattr(first, "keep", ""))

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        from check_callout.report import describe_result

        lines: list[str] = []
        callouts = self._callout_results(results)
        for result in callouts:
            lines.extend(describe_result(result.metric.value, self.verbosity, result.details))
        if callouts and all(r.metric.value.sender_checks is None for r in callouts):
            lines.append(
                "sender checks not run (no --client-ip): SPF, the HELO name, reverse DNS and the sender "
                "domain not checked; a strict receiver may refuse what the callout accepts"
            )
        return lines


def _short(text: str, more: str = "", keep: str = "") -> str:
    """The summary within the first line's limit, ``more`` kept whole at its end, and
    ``keep`` (the end of ``text``: what the deciding receiver would do) never cut."""
    limit = summary_limit(NAME) - len(more)
    text = sanitize(text, 10_000)
    keep = sanitize(keep, 10_000)
    if keep and len(text) > limit and text.endswith(keep) and len(keep) < limit - 40:
        return cut_words(text[: -len(keep)], limit - len(keep)) + keep + more
    return cut_words(text, limit) + more

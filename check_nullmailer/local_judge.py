"""The local audit's contexts: each judges one measured part.

- :class:`ExposureContext`      listening sockets against the MTA's relay settings;
- :class:`OriginContext`        the envelope origin's callout (:func:`judge_origin`), with
  the fix from the MTA's module;
- :class:`QueueUnreadContext`   a queue that could not be read;
- :class:`DeferredContext`, :class:`CalloutQueueContext`  the queue's deferred mail.
"""

from __future__ import annotations

import re
from typing import Any

import nagiosplugin

from check_callout.kit.output import age as age_words
from check_callout.kit.output import plural
from check_callout.kit.result import Finding
from check_callout.kit.states import CRITICAL, OK, UNKNOWN, WARNING, to_nagios
from check_nullmailer.local import ExposureReport, OriginReport, QueueUnread

FIX_GENERIC = "use an envelope domain such as {alt} ("


class ExposureContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("exposure")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        report: ExposureReport = metric.value
        info = report.info
        if report.proc_error:
            return self.result_cls(
                nagiosplugin.Unknown, f"cannot read listening sockets: {report.proc_error}", metric
            )
        if info is not None and info.services:  # one verdict per SMTP service of the configuration
            from check_nullmailer.service_exposure import judge_services

            state, text = judge_services(info, report.public, report.listeners, report.allow_listen)
            return self.result_cls(to_nagios(state), text, metric)
        result = self._judge(report, info, metric)
        if info is not None and info.services_unread and result.state == nagiosplugin.Ok:
            # never OK when blind: the services of the configuration are not known
            return self.result_cls(nagiosplugin.Warn, f"{result.hint}; {info.services_unread}", metric)
        return result

    def _judge(self, report: ExposureReport, info: Any, metric: nagiosplugin.Metric) -> nagiosplugin.Result:
        from check_nullmailer.mta.base import RELAY_NETWORKS, RELAY_OPEN, RELAY_UNKNOWN

        if not report.public:
            where = ", ".join(str(item) for item in report.listeners)
            hint = f"listens on loopback only ({where})" if where else "not listening on 25, 465, 587"
            if info is not None and info.listen_public and not report.allow_listen:
                # not running now, or not yet: the configuration opens it on the next start
                said = f" ({info.listen_text})" if info.listen_text else ""
                return self.result_cls(
                    nagiosplugin.Warn,
                    f"{hint} now, but {info.label}'s configuration{said} will expose it on the next start",
                    metric,
                )
            return self.result_cls(nagiosplugin.Ok, hint, metric)
        where = ", ".join(str(item) for item in report.public[:4])
        if info is not None and info.relay in (RELAY_OPEN, RELAY_NETWORKS):
            label = info.label
            return self.result_cls(
                nagiosplugin.Critical, f"listening on {where} and {label} {info.relay_text}", metric
            )
        if report.allow_listen:
            return self.result_cls(nagiosplugin.Ok, f"listening on {where} (allowed)", metric)
        extra = ""
        if info is not None and info.relay == RELAY_UNKNOWN:
            extra = f"; relay setting not evaluated: {info.relay_text}"
        return self.result_cls(nagiosplugin.Warn, f"listening on {where}{extra}", metric)


class OriginContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("origin", result_cls=Finding)

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Finding:
        from check_callout.judge import judge
        from check_callout.settings import Policy

        report: OriginReport = metric.value
        state, text = judge_origin(report)
        # the callout's own notes (a degraded MX, ...) for the long output
        notes = judge(report.result, Policy()).notes
        alt = judge(report.alternative, Policy()).notes if report.alternative is not None else []
        return Finding(to_nagios(state), text, metric, (notes, alt))


def judge_origin(report: OriginReport) -> tuple[int, str]:
    """The state and the plain-words verdict (with the fix) for the envelope origin."""
    from check_callout.net.routes import IMPLICIT, NO_ADDRESS, NULL_MX, NXDOMAIN
    from check_callout.receiver import EXIM_ACCEPT, EXIM_DEFER

    result = report.result
    decision = result.decision
    sender = result.sender.display
    if decision.exim is None:
        why = decision.reason
        return UNKNOWN, f"{report.origin_text}: cannot tell whether {sender} passes callouts: {why}"
    if decision.exim == EXIM_ACCEPT:
        return OK, f"{report.origin_text}: {sender} passes callouts ({decision.reason})"
    route = result.route
    what = {
        IMPLICIT: "no MX, and it ",  # the origin text just named the domain
        NXDOMAIN: "",
        NULL_MX: "",
        NO_ADDRESS: "",
    }.get(route.status, "")
    verb = "defers (451)" if decision.exim == EXIM_DEFER else "rejects (550)"
    shown = "" if sender == f"postmaster@{report.origin}" else f" ({sender})"
    reason = decision.reason
    outcomes = {a.outcome.describe(40) for a in decision.attempts}
    if route.status == IMPLICIT and len(outcomes) == 1:  # the seed: say it short, the line is read first
        reason = outcomes.pop()
    text = f"{report.origin_text}{shown}: {what}{reason}: Exim {verb}"
    fixes: list[str] = []
    alt = report.alternative
    if alt is not None:
        template = _fix_template(report.info)
        fix = template.format(alt=alt.sender.domain)
        if alt.decision.exim == EXIM_ACCEPT:
            from check_nullmailer.strict_judge import alt_words

            said = "MX accepts" + (f"; {words}" if (words := alt_words(report.strict)) else "")
            fixes.append(fix + (f", {said})" if not fix.endswith("(") else f"{said})"))
        else:
            fixes.append(f"use a domain whose MX accepts ({alt.sender.domain} does not either)")
    if route.status == IMPLICIT:
        fixes.append(f"open port {report_port(result)}")
    if alt is None and (route.status in (NXDOMAIN, NULL_MX, NO_ADDRESS) or "." not in report.origin):
        # no parent domain to try (localdomain, a bare name) and this one takes no mail
        fixes.append(f"use a real mail domain whose MX accepts mail ({report.origin} is not one)")
    if fixes:
        text += "; " + " or ".join(fixes)
    return CRITICAL, text


def _fix_template(info: Any) -> str:
    """The MTA's own fix for its origin, or a generic one."""
    from check_nullmailer.mta import REGISTRY

    mta = REGISTRY.get(info.mta) if info is not None else None
    return mta.fix if mta is not None else FIX_GENERIC


def report_port(result: Any) -> int:
    for dialogue in result.dialogues:
        return int(dialogue.port)
    return 25


class EgressContext(nagiosplugin.Context):
    """How the mail leaves (route, HELO, source): said in the long output, not judged
    here; the sender checks that need it judge it."""

    def __init__(self) -> None:
        super().__init__("egress")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return self.result_cls(nagiosplugin.Ok, None, metric)


def egress_lines(egress: Any) -> list[str]:
    """The long output's egress part: one line the MTA lab reads, then how each value
    was found, and what could not be told."""
    from check_nullmailer.mta.egress_source import non_public

    lines = [f"egress: {egress.line()}"]
    if egress.route_text:
        lines.append(f"  route: {egress.route_text}")
    if egress.helo_text:
        lines.append(f"  HELO: {egress.helo_text}")
    if egress.source_text:
        lines.append(f"  source: {egress.source_text}")
    from check_nullmailer.mta.egress import DIRECT

    hidden = non_public(egress)
    if hidden and egress.route == DIRECT and egress.source_text != "stated with --client-ip":
        lines.append(
            f"  note: {', '.join(hidden)} is not a public address: receivers see another one (NAT); "
            "what needs the address they see cannot be told without --client-ip ADDR"
        )
    lines.extend(f"  note: {note}" for note in egress.notes)
    return lines


class CalloutQueueContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("callout_deferred")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        queue = metric.value
        count = queue.callout_deferred or 0
        if count:
            age = age_words(queue.oldest_callout)
            least = "at least " if queue.capped else ""
            return self.result_cls(
                nagiosplugin.Critical,
                f"{least}{plural(count, 'queued message')} deferred by sender verify callouts (oldest {age})",
                metric,
            )
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance("callout_deferred", metric.value.callout_deferred or 0, min=0)


class DeferredContext(nagiosplugin.ScalarContext):
    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        result = super().evaluate(metric, resource)
        if result.state != nagiosplugin.Ok:
            queue = resource.queue  # the LocalAudit's measured queue
            age = f", oldest {age_words(queue.oldest_deferred)}" if queue is not None else ""
            least = "at least " if queue is not None and queue.capped else ""
            return self.result_cls(
                result.state, f"{least}{plural(metric.value, 'deferred message')} in the queue{age}", metric
            )
        return result


# A queue that cannot be read because the MTA is down is news: nothing is sent.
_MTA_DOWN = re.compile(r"mail system is down|not running|malformed showq", re.IGNORECASE)
# A queue closed to the monitoring user is a part not seen: UNKNOWN, with the grant.
_NO_ACCESS = re.compile(r"permission denied|--sudo|install contrib/sudoers|is closed to", re.IGNORECASE)
# Queues this check does not read by design (said in the long output, not judged): a
# foreign --root whose queue this host's tools cannot see, an MTA without a queue reader.
_NOT_READ_BY_DESIGN = re.compile(r"under another root is not read|queue is not supported", re.IGNORECASE)


def queue_unread_state(reason: str, unreadable: bool = False) -> tuple[int, str]:
    """The state and words for a queue that was not read (docs/never-blind.md); never OK
    when the check was asked to read it and could not (``unreadable``: the reader said
    so with a CouldNotRead, and no words in ``reason`` make that OK).

    - closed to the monitoring user: UNKNOWN, with what to grant (the check's own
      access is what needs fixing);
    - the MTA is stopped: WARNING, a finding (nothing leaves the host);
    - any other failure (a tool that hangs, is missing or fails): WARNING, the check
      cannot tell whether mail is stuck.  Not UNKNOWN: the other parts of --local were
      seen, and an UNKNOWN part would outrank (in the exit code) a CRITICAL finding
      such as an open relay or an origin that receivers reject.
    """
    if not reason and not unreadable:
        return OK, "queue: not read (no MTA found)"
    if _MTA_DOWN.search(reason):
        return WARNING, f"queue: the MTA is not running ({reason})"
    if _NO_ACCESS.search(reason):
        return UNKNOWN, f"queue: cannot read it: {reason}"
    if _NOT_READ_BY_DESIGN.search(reason) and not unreadable:
        return OK, f"queue: not read ({reason})"
    return WARNING, f"queue: could not read it, cannot tell whether mail is stuck ({reason})"


class QueueUnreadContext(nagiosplugin.Context):
    """A queue that was not read: closed to this user (UNKNOWN), could not look or the
    MTA is down (WARNING), or not read by design (said, not judged)."""

    def __init__(self) -> None:
        super().__init__("queue_unread")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        unread: QueueUnread = metric.value
        state, words = queue_unread_state(unread.reason, unread.unreadable)
        return self.result_cls(to_nagios(state), words, metric)

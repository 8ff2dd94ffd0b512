"""check_nullmailer: the Nagios/Icinga plugin glue.

Two vantage points, one executable:

- ``-H HOST`` (from the monitoring host): SMTP ports closed, or an open port that relays
  for nobody and takes no inbound mail (the relay battery of :mod:`.relay`);
- ``--local`` (on the null mailer): listening sockets and the MTA's own exposure
  settings, the envelope origin and what callout-verifying receivers make of it (the
  engine of :mod:`check_callout`), and the deferred mail in the queue.

Resources only measure, contexts only judge, the summary only words the result.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import nagiosplugin

from check_callout.pluginutil import (
    PluginArgumentParser,
    UsageError,
    add_run_options,
    check_argv,
    execute,
    fit,
    nagios_range,
    plugin_main,
    port_number,
    summary_limit,
)
from check_callout.text import sanitize
from check_nullmailer import __version__

NAME = "NULLMAILER"
OUTPUT_RESERVE = 0.3  # seconds kept back from -t to print the result
DEFAULT_PORTS = (25,)
STATES = [nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical, nagiosplugin.Unknown]


# -- measured values handed from resources to contexts -------------------------------------------


@dataclass
class PortReport:
    port: int
    batteries: list[Any]  # relay.Battery
    expect_closed: bool = False
    allow_inbound: bool = False


@dataclass
class Problem:
    """A part that could not be measured (UNKNOWN) or was skipped (stays OK, is named)."""

    text: str
    state: int = 3


@dataclass
class ExposureReport:
    listeners: list[Any]  # exposure.Listener, all SMTP ports
    public: list[Any]
    info: Any  # origin.MTAInfo or None
    allow_listen: bool = False
    proc_error: str = ""


@dataclass
class OriginReport:
    info: Any  # origin.MTAInfo
    origin: str
    origin_text: str
    result: Any  # engine.SenderResult for the sender
    alternative: Any = None  # engine.SenderResult for postmaster@<suggested domain>
    notes: list[str] = field(default_factory=list)


# -- remote --------------------------------------------------------------------------------------


class RemoteAudit(nagiosplugin.Resource):
    """Measures: connects to each port, runs the relay battery where one is open."""

    def __init__(self, args: argparse.Namespace, deadline: float) -> None:
        self.args = args
        self.deadline = deadline
        self.transcripts: dict[int, list[str]] = {}

    @property
    def name(self) -> str:
        return NAME

    def _resolve(self) -> str:
        import socket

        from check_callout.mxlookup import is_ip
        from check_callout.parallel import run_parallel

        host = self.args.hostname
        if is_ip(host):
            return host
        family = {(4,): socket.AF_INET, (6,): socket.AF_INET6}.get(self.args.families or (), socket.AF_UNSPEC)

        def lookup() -> str:
            infos = socket.getaddrinfo(host, 25, family, socket.SOCK_STREAM)
            return str(infos[0][4][0])

        result = run_parallel({"a": lookup}, self.deadline)["a"]
        if isinstance(result, BaseException):
            raise LookupError(f"cannot resolve {host}: {result}")
        return result

    def _port(self, address: str, port: int) -> PortReport:
        from check_nullmailer.relay import run_battery

        args = self.args
        transcript: list[str] | None = [] if args.verbose >= 2 else None
        if transcript is not None:
            self.transcripts[port] = transcript
        common = dict(
            helo=args.helo, deadline=self.deadline, relay_to=args.relay_to,
            own_name=self.own_name, timeout=min(30.0, args.timeout),
            connect_timeout=args.connect_timeout, transcript=transcript,
        )  # fmt: skip
        if port == 465:
            batteries = [run_battery(address, port, mode="TLS", **common)]
        else:
            batteries = [run_battery(address, port, mode="plain", **common)]
            first = batteries[0]
            if first.listening and first.starttls_offered and args.starttls and not args.expect_closed:
                batteries.append(run_battery(address, port, mode="STARTTLS", **common))
        return PortReport(port, batteries, args.expect_closed, args.allow_inbound)

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.mxlookup import is_ip
        from check_callout.parallel import run_parallel

        host = self.args.hostname
        self.own_name = "" if is_ip(host) else host.rstrip(".").lower()
        try:
            address = self._resolve()
        except LookupError as exc:
            yield nagiosplugin.Metric("target", Problem(sanitize(str(exc), 160)), context="problem")
            return
        jobs = {port: (lambda port=port: self._port(address, port)) for port in self.args.ports}
        finished = run_parallel(jobs, self.deadline, workers=len(jobs))
        reports: list[PortReport] = []
        for port in self.args.ports:
            value = finished[port]
            if isinstance(value, PortReport):
                reports.append(value)
                yield nagiosplugin.Metric(f"port {port}", value, context="relay")
            else:
                yield nagiosplugin.Metric(
                    f"port {port}", Problem(f"port {port}: {sanitize(str(value), 160)}"), context="problem"
                )
        from check_nullmailer.relay import RELAYED, UNTESTED

        tests = [t for r in reports for b in r.batteries for t in b.tests]
        open_ports = sum(1 for r in reports if r.batteries and r.batteries[0].listening)
        yield nagiosplugin.Metric("open_ports", open_ports, min=0, context="perf")
        yield nagiosplugin.Metric(
            "relay_tests", sum(1 for t in tests if t.outcome != UNTESTED), min=0, context="perf"
        )
        yield nagiosplugin.Metric(
            "relay_accepted", sum(1 for t in tests if t.outcome == RELAYED), min=0, context="perf"
        )


class RelayContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("relay")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        from check_nullmailer.relay import judge_port

        report: PortReport = metric.value
        verdict = judge_port(
            report.batteries, expect_closed=report.expect_closed, allow_inbound=report.allow_inbound
        )
        result = self.result_cls(STATES[verdict.state], verdict.summary, metric)
        result.details = verdict.details  # type: ignore[attr-defined]
        return result


class ProblemContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("problem")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        problem: Problem = metric.value
        return self.result_cls(STATES[problem.state], problem.text, metric)


class PerfContext(nagiosplugin.ScalarContext):
    """Perfdata only: never judges."""

    def __init__(self, name: str = "perf") -> None:
        super().__init__(name)

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return self.result_cls(nagiosplugin.Ok, None, metric)


# -- local ----------------------------------------------------------------------------------------


class LocalAudit(nagiosplugin.Resource):
    """Measures on the null mailer itself: sockets, configuration, callouts, queue."""

    def __init__(self, args: argparse.Namespace, deadline: float) -> None:
        self.args = args
        self.deadline = deadline
        self.root = args.root or "/"

    @property
    def name(self) -> str:
        return NAME

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        from check_nullmailer import exposure, origin
        from check_nullmailer.origin import under

        args = self.args
        info = None
        others: list[str] = []
        mta = args.mta
        if mta == "auto" and args.postfix_config:
            mta = "postfix"
        elif mta == "auto" and args.exim_config:
            mta = "exim"
        if mta == "auto":
            try:
                mta, others = origin.detect(self.root)
            except origin.NoMTA as exc:
                mta = ""
                if not args.origin:
                    yield nagiosplugin.Metric("mta", Problem(str(exc)), context="problem")
        if mta:
            info = origin.read_mta(
                mta, self.root, postfix_config=args.postfix_config,
                exim_config=args.exim_config, deadline=self.deadline,
            )  # fmt: skip
            if others:
                info.notes.append(f"also configured: {', '.join(origin.LABELS[o] for o in others)}")

        # exposure
        proc = under(self.root, "/proc")
        if not os.path.exists(os.path.join(proc, "net", "tcp")):
            proc = "/proc"
        report = ExposureReport([], [], info, args.allow_listen)
        try:
            report.listeners = exposure.listeners(proc, exposure.SMTP_PORTS)
            report.public = exposure.public(report.listeners)
        except exposure.ProcUnreadable as exc:
            report.proc_error = sanitize(str(exc), 160)
        yield nagiosplugin.Metric("exposure", report, context="exposure")
        yield nagiosplugin.Metric(
            "open_ports", len({item.port for item in report.public}), min=0, context="perf"
        )

        # envelope origin and callouts
        yield from self._origin(info)

        # queue
        if not mta:
            yield nagiosplugin.Metric("queue", Problem("queue: skipped (no MTA found)", 0), context="problem")
            return
        from check_nullmailer.queue import QueueUnavailable, read_queue

        try:
            queue = read_queue(
                mta, self.root, postfix_config=args.postfix_config,
                exim_config=args.exim_config, deadline=self.deadline,
            )  # fmt: skip
        except QueueUnavailable as exc:
            # A queue that cannot be read because the MTA is down is news: nothing is sent.
            down = re.search(r"mail system is down|not running|malformed showq", str(exc), re.IGNORECASE)
            if down:
                yield nagiosplugin.Metric("queue", Problem(f"queue: the MTA is not running ({exc})", 1),
                                          context="problem")
            else:
                yield nagiosplugin.Metric("queue", Problem(f"queue: skipped ({exc})", 0), context="problem")
            return
        self.queue = queue
        yield nagiosplugin.Metric("deferred", queue.deferred, min=0, context="deferred")
        if queue.callout_deferred is not None:
            yield nagiosplugin.Metric("callout_deferred", queue, min=0, context="callout_deferred")
        yield nagiosplugin.Metric("oldest_deferred", round(queue.oldest_deferred), "s", min=0, context="perf")

    def _origin(self, info: Any) -> Iterator[nagiosplugin.Metric]:
        from check_callout.address import AddressError, domain_address, parse_address
        from check_callout.engine import CalloutOptions, run_callouts

        args = self.args
        if args.origin:
            domain, text = args.origin.rstrip(".").lower(), f"--origin {args.origin}"
        elif info is not None and info.origin:
            domain, text = info.origin, info.origin_text
        elif info is None:
            return  # no MTA: already reported, there is no origin to judge
        else:
            why = "; ".join(info.notes) if info.notes else "no setting found"
            label = info.label
            yield nagiosplugin.Metric(
                "origin", Problem(f"cannot tell the envelope origin of {label}: {why}"), context="problem"
            )
            return
        try:
            sender = parse_address(args.sender) if args.sender else domain_address(domain)
        except AddressError as exc:
            yield nagiosplugin.Metric("origin", Problem(f"envelope origin {text}: {exc}"), context="problem")
            return
        alt_domain = suggested_domain(info, domain)
        senders: list[Any] = [sender]
        if alt_domain:
            try:
                senders.append(domain_address(alt_domain))
            except AddressError:
                alt_domain = ""
        options = CalloutOptions(
            port=args.port, helo=args.helo, starttls=args.starttls,
            timeout=min(30.0, args.timeout), connect_timeout=args.connect_timeout,
            nameserver=args.nameserver, dns_port=args.dns_port,
            families=args.families or (6, 4), transcript=args.verbose >= 2,
        )  # fmt: skip
        results = run_callouts(senders, options, self.deadline)
        report = OriginReport(info, domain, text, results[0], results[1] if len(results) > 1 else None)
        yield nagiosplugin.Metric("origin", report, context="origin")


def suggested_domain(info: Any, origin_domain: str) -> str:
    """The domain a fix would use: Postfix's ``$mydomain``, else the origin's parent."""
    parent = origin_domain.partition(".")[2]
    if parent.count(".") < 1:
        return ""
    return parent


FIXES = {
    "postfix": "set myorigin = $mydomain ({alt}",
    "exim": "set qualify_domain = {alt} (",
    "nullmailer": "set allmailfrom to an address @{alt} (",
    "ssmtp": "set rewriteDomain={alt} in ssmtp.conf (",
    "msmtp": "set from to an address @{alt} in msmtprc (",
    "dma": "set MASQUERADE @{alt} in dma.conf (",
    "opensmtpd": "add mail-from @{alt} to the relay action (",
}


class ExposureContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("exposure")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        from check_nullmailer.origin import RELAY_NETWORKS, RELAY_OPEN, RELAY_UNKNOWN

        report: ExposureReport = metric.value
        info = report.info
        if report.proc_error:
            return self.result_cls(
                nagiosplugin.Unknown, f"cannot read listening sockets: {report.proc_error}", metric
            )
        if not report.public:
            where = ", ".join(str(item) for item in report.listeners)
            hint = f"listens on loopback only ({where})" if where else "not listening on 25, 465, 587"
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
        super().__init__("origin")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        report: OriginReport = metric.value
        state, text = judge_origin(report)
        return self.result_cls(STATES[state], text, metric)


def judge_origin(report: OriginReport) -> tuple[int, str]:
    """The state and the plain-words verdict (with the fix) for the envelope origin."""
    from check_callout.mxlookup import IMPLICIT, NO_ADDRESS, NULL_MX, NXDOMAIN

    result = report.result
    decision = result.decision
    sender = result.sender.display
    if decision.exim is None:
        return 3, f"{report.origin_text}: cannot tell whether {sender} passes callouts: {decision.reason}"
    if decision.exim == "accept":
        return 0, f"{report.origin_text}: {sender} passes callouts ({decision.reason})"
    route = result.route
    what = {
        IMPLICIT: "no MX, and it ",  # the origin text just named the domain
        NXDOMAIN: "",
        NULL_MX: "",
        NO_ADDRESS: "",
    }.get(route.status, "")
    verb = "defers (451)" if decision.exim == "defer" else "rejects (550)"
    shown = "" if sender == f"postmaster@{report.origin}" else f" ({sender})"
    reason = decision.reason
    outcomes = {a.outcome.describe(40) for a in decision.attempts}
    if route.status == IMPLICIT and len(outcomes) == 1:  # the seed: say it short, the line is read first
        reason = outcomes.pop()
    text = f"{report.origin_text}{shown}: {what}{reason}: Exim {verb}"
    fixes: list[str] = []
    alt = report.alternative
    mta = report.info.mta if report.info is not None else ""
    if alt is not None:
        template = FIXES.get(mta, "use an envelope domain such as {alt} (")
        fix = template.format(alt=alt.sender.domain)
        if alt.decision.exim == "accept":
            fixes.append(fix + (", MX accepts)" if not fix.endswith("(") else "MX accepts)"))
        else:
            fixes.append(f"use a domain whose MX accepts ({alt.sender.domain} does not either)")
    if route.status == IMPLICIT:
        fixes.append(f"open port {report_port(result)}")
    if fixes:
        text += "; " + " or ".join(fixes)
    return 2, text


def report_port(result: Any) -> int:
    for dialogue in result.dialogues:
        return int(dialogue.port)
    return 25


class CalloutQueueContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("callout_deferred")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        queue = metric.value
        count = queue.callout_deferred or 0
        if count:
            age = _age(queue.oldest_callout)
            return self.result_cls(
                nagiosplugin.Critical,
                f"{_n(count, 'queued message')} deferred by sender verify callouts (oldest {age})",
                metric,
            )
        return self.result_cls(nagiosplugin.Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance("callout_deferred", metric.value.callout_deferred or 0, min=0)


class DeferredContext(nagiosplugin.ScalarContext):
    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        result = super().evaluate(metric, resource)
        if result.state != nagiosplugin.Ok:
            queue = getattr(resource, "queue", None)
            age = f", oldest {_age(queue.oldest_deferred)}" if queue is not None else ""
            return self.result_cls(
                result.state, f"{_n(metric.value, 'deferred message')} in the queue{age}", metric
            )
        return result


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# -- wording ---------------------------------------------------------------------------------------


class NullmailerSummary(nagiosplugin.Summary):
    """The worst findings first on the first line; every part in the long output."""

    def __init__(self, verbosity: int, resource: Any) -> None:
        self.verbosity = verbosity
        self.resource = resource

    def _hints(self, results: nagiosplugin.Results, states: set[Any]) -> list[str]:
        """Hints that explain the overall state first, then the rest by severity; among
        equals the envelope origin first (the reason this check exists)."""
        picked = [r for r in results if r.state in states and r.hint]
        order = {nagiosplugin.Critical: 0, nagiosplugin.Unknown: 1, nagiosplugin.Warn: 2, nagiosplugin.Ok: 3}
        overall = max((r.state for r in results), default=nagiosplugin.Ok)
        parts = {"origin": 0, "relay": 1}
        picked.sort(key=lambda r: (r.state != overall, order.get(r.state, 4),
                                   parts.get(r.metric.context if r.metric else "", 2)))
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
                lines.extend(f"  {d}" for d in getattr(result, "details", []))
                if self.verbosity >= 1:
                    for battery in value.batteries:
                        for test in battery.tests + ([battery.inbound] if battery.inbound else []):
                            lines.append(f"    {battery.where} {test.outcome}: {test.describe()}")
                            if test.note():
                                lines.append(f"      ({test.note()})")
                if self.verbosity >= 2:
                    transcript = getattr(self.resource, "transcripts", {}).get(value.port, [])
                    lines.extend(f"    {line}" for line in transcript)
            elif metric.context == "exposure":
                lines.append(f"[{result.state}] exposure: {result.hint}")
                listeners = ", ".join(str(item) for item in value.listeners) or "none"
                lines.append(f"  listening SMTP sockets: {listeners}")
                info = value.info
                if info is not None:
                    lines.append(f"  {info.label} configuration ({info.config or 'not found'}):")
                    if info.listen_text:
                        lines.append(f"    {info.listen_text}")
                    if info.relay_text:
                        lines.append(f"    relay: {info.relay_text}")
                    lines.extend(f"    note: {note}" for note in info.notes)
            elif metric.context == "origin":
                lines.append(f"[{result.state}] envelope origin: {value.origin_text}")
                from check_callout.report import describe_result

                lines.extend(f"  {line}" for line in describe_result(value.result, self.verbosity))
                if value.alternative is not None and result.state != nagiosplugin.Ok:
                    lines.append("  the suggested fix, checked:")
                    lines.extend(f"    {line}" for line in describe_result(value.alternative, self.verbosity))
            elif metric.context == "callout_deferred" or metric.name == "deferred":
                if metric.name == "deferred":
                    queue = getattr(self.resource, "queue", None)
                    if queue is None:
                        continue
                    called = "not known" if queue.callout_deferred is None else queue.callout_deferred
                    oldest = f" (oldest {_age(queue.oldest_deferred)})" if queue.deferred else ""
                    state = max(
                        (
                            r.state
                            for r in results
                            if r.metric is not None and r.metric.name in _QUEUE_METRICS
                        ),
                        default=result.state,
                    )
                    lines.append(
                        f"[{state}] queue ({queue.source}): {_n(queue.messages, 'message')}, "
                        f"{queue.deferred} deferred{oldest}, "
                        f"by callouts: {called}"
                    )
                    lines.extend(f"  {example}" for example in queue.examples)
                    lines.extend(f"  note: {note}" for note in queue.notes)
                    if queue.callout_deferred:
                        lines.append(f"  note: {REQUEUE_HINT.get(queue.source.split()[0], REQUEUE_HINT[''])}")
            elif metric.context == "problem":
                lines.append(f"[{result.state}] {result.hint}")
        return lines


_QUEUE_METRICS = ("deferred", "callout_deferred")

# Fixing the origin does not help mail already queued: it keeps its envelope sender.
REQUEUE_HINT = {
    "postqueue": "queued mail keeps its old envelope sender: after the fix, rewrite it with "
                 "masquerade_domains = $mydomain and requeue it (postsuper -r ALL), then postqueue -f",
    "exim": "queued mail keeps its old envelope sender: after the fix, rewrite it "
            "(exim -Mes ID NEW-SENDER) or let it bounce and resend",
    "": "queued mail keeps its old envelope sender: after the fix it must be resubmitted",
}


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


# -- command line --------------------------------------------------------------------------------------


def port_list(text: str) -> tuple[int, ...]:
    """argparse type: ``25,465,587``."""
    try:
        ports = tuple(dict.fromkeys(port_number(part.strip()) for part in text.split(",") if part.strip()))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a list of ports: {text!r}") from None
    if not ports or len(ports) > 10:
        raise argparse.ArgumentTypeError(f"give 1 to 10 ports: {text!r}")
    return ports


def build_parser() -> PluginArgumentParser:
    from check_nullmailer.origin import MTAS
    from check_nullmailer.relay import DEFAULT_RELAY_TO

    parser = PluginArgumentParser(
        prog="check_nullmailer",
        plugin_name=NAME,
        version=__version__,
        description=(
            "Audit a send-only mail host. From outside (-H): SMTP ports closed, or no relaying "
            "for strangers (16 relay forms, plain and after STARTTLS, never DATA) and no inbound "
            "mail. From inside (--local): listening sockets and relay settings, the envelope "
            "sender domain and whether callout-verifying receivers accept it, deferred mail."
        ),
        epilog="Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-H", "--hostname", metavar="HOST", help="audit HOST from outside")
    mode.add_argument("--local", action="store_true", help="audit this host from inside")
    remote = parser.add_argument_group("from outside (-H)")
    remote.add_argument(
        "--ports",
        type=port_list,
        default=DEFAULT_PORTS,
        metavar="LIST",
        help="ports to test, e.g. 25,465,587 (465 is implicit TLS; default: 25)",
    )
    remote.add_argument("--expect-closed", action="store_true", help="an open port is CRITICAL")
    remote.add_argument(
        "--relay-to",
        default=DEFAULT_RELAY_TO,
        metavar="DOMAIN",
        help=f"foreign domain of the relay tests (default: {DEFAULT_RELAY_TO})",
    )
    remote.add_argument(
        "--allow-inbound",
        action="store_true",
        help="do not warn when the host accepts mail for postmaster@itself",
    )
    family = remote.add_mutually_exclusive_group()
    family.add_argument("-4", dest="families", action="store_const", const=(4,), help="IPv4 only")
    family.add_argument("-6", dest="families", action="store_const", const=(6,), help="IPv6 only")
    local = parser.add_argument_group("from inside (--local)")
    local.add_argument("--mta", choices=("auto",) + MTAS, default="auto", help="the MTA (default: auto)")
    local.add_argument("--postfix-config", metavar="DIR", help="Postfix configuration directory")
    local.add_argument("--exim-config", metavar="FILE", help="Exim configuration file")
    local.add_argument("--root", metavar="DIR", help="prefix for every configuration path (tests, chroots)")
    local.add_argument(
        "--allow-listen", action="store_true", help="do not warn about SMTP listeners on public addresses"
    )
    local.add_argument("--origin", metavar="DOMAIN", help="envelope sender domain (default: from the MTA)")
    local.add_argument("--sender", metavar="ADDRESS", help="sender to verify (default: postmaster@origin)")
    local.add_argument(
        "--queue-warning",
        type=nagios_range,
        default="10",
        metavar="RANGE",
        help="warning range for deferred messages (default: 10)",
    )
    local.add_argument(
        "--queue-critical",
        type=nagios_range,
        default="50",
        metavar="RANGE",
        help="critical range for deferred messages (default: 50)",
    )
    local.add_argument("--nameserver", metavar="IP", help="DNS server for the callouts")
    local.add_argument("--dns-port", type=port_number, default=53, help="DNS server port (default: 53)")
    local.add_argument("-p", "--port", type=port_number, default=25, help="SMTP port of the callouts (25)")
    both = parser.add_argument_group("both")
    both.add_argument("--helo", metavar="NAME", help="EHLO name (default: this host's FQDN)")
    both.add_argument("--no-starttls", dest="starttls", action="store_false", help="never use STARTTLS")
    add_run_options(both, "check_nullmailer", __version__,
                    "-v every test, -vv SMTP transcripts, -vvv tracebacks")
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    from check_callout.address import AddressError, parse_address, to_ascii_domain
    from check_callout.mxlookup import is_ip

    check_argv(argv)
    args = build_parser().parse_args(argv)
    if not args.hostname and not args.local:
        raise UsageError("give -H HOST (from outside) or --local (on the null mailer)")
    try:
        args.relay_to = to_ascii_domain(args.relay_to)
        if args.origin:
            args.origin = to_ascii_domain(args.origin)
        if args.sender:
            parse_address(args.sender)
        if args.helo:
            to_ascii_domain(args.helo)
        if args.hostname and not is_ip(args.hostname):
            to_ascii_domain(args.hostname)
    except AddressError as exc:
        raise UsageError(str(exc)) from None
    if args.nameserver and not is_ip(args.nameserver):
        raise UsageError(f"--nameserver must be an IP address: {args.nameserver!r}")
    if args.root and not os.path.isdir(args.root):
        raise UsageError(f"--root is not a directory: {args.root!r}")
    if args.postfix_config and not os.path.isdir(args.postfix_config):
        raise UsageError(f"--postfix-config is not a directory: {args.postfix_config!r}")
    if args.exim_config and not os.path.isfile(args.exim_config):
        raise UsageError(f"--exim-config is not a file: {args.exim_config!r}")
    if not args.helo:
        from check_callout.engine import default_helo

        args.helo = default_helo()
    return args


def main(argv: Sequence[str] | None = None) -> None:
    plugin_main(NAME, parse_arguments, run, argv)


def run(args: argparse.Namespace, start: float) -> None:
    deadline = start + max(0.2, args.timeout - OUTPUT_RESERVE)
    resource: nagiosplugin.Resource
    if args.local:
        resource = LocalAudit(args, deadline)
        contexts: list[nagiosplugin.Context] = [
            ExposureContext(),
            OriginContext(),
            DeferredContext("deferred", args.queue_warning, args.queue_critical),
            CalloutQueueContext(),
        ]
    else:
        resource = RemoteAudit(args, deadline)
        contexts = [RelayContext()]
    check = nagiosplugin.Check(
        resource, *contexts, ProblemContext(), PerfContext(), NullmailerSummary(args.verbose, resource)
    )
    execute(check, args.verbose, args.timeout)




def _n(count: int, noun: str) -> str:
    """``1 message``, ``3 messages``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


if __name__ == "__main__":
    main()

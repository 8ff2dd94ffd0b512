"""check_callout: the Nagios/Icinga plugin glue.

A :class:`Callout` resource only measures (DNS, probes), contexts only judge, the
summary only words the result, as in nagiosplugin's own examples.
"""

from __future__ import annotations

import argparse

import nagiosplugin

from check_callout import __version__
from check_callout.pluginutil import (
    PluginArgumentParser,
    UsageError,
    add_run_options,
    check_argv,
    cut_words,
    execute,
    nagios_range,
    plugin_main,
    port_number,
    summary_limit,
)
from check_callout.report import describe_result
from check_callout.text import perf_label, sanitize

TYPE_CHECKING = False  # typing is not imported at run time: start-up time matters
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

NAME = "CALLOUT"
OUTPUT_RESERVE = 0.3  # seconds kept back from -t to print the result


class Seconds(float):
    """A time for perfdata in fixed notation (``0.000052``, never ``5.2e-05``)."""

    def __str__(self) -> str:
        return f"{self:.6f}"

    __repr__ = __str__


class Callout(nagiosplugin.Resource):
    """Measures: resolves, probes, and hands each sender's result to the contexts."""

    def __init__(self, senders: list[Any], options: Any, deadline: float) -> None:
        self.senders = senders
        self.options = options
        self.deadline = deadline
        self.results: list[Any] = []

    @property
    def name(self) -> str:
        return NAME

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.engine import run_callouts

        self.results = run_callouts(self.senders, self.options, self.deadline)
        for result in self.results:
            yield nagiosplugin.Metric(f"sender {result.sender.display}", result, context="callout")
        # The deciding dialogue's time; when no host decides (a defer), the longest
        # dialogue, so that the label is always there for graphs.
        times = [t for t in (r.deciding_time for r in self.results) if t is not None]
        if not times:
            times = [d.total for r in self.results for d in r.dialogues]
        if times:
            yield nagiosplugin.Metric("time", Seconds(max(times)), "s", min=0, context="time")
        hosts: dict[str, set[str]] = {}
        accepting: set[str] = set()
        for result in self.results:
            for attempt in result.decision.attempts:
                hosts.setdefault(attempt.host, set()).add(attempt.address)
                if attempt.outcome.kind == "accept":
                    accepting.add(attempt.host)
        yield nagiosplugin.Metric("mx_hosts", len(hosts), min=0, context="count")
        yield nagiosplugin.Metric("mx_accepting", len(accepting), min=0, context="count")
        seen: set[str] = set()
        for result in self.results:
            for dialogue in result.dialogues:
                label = perf_label(f"time_{dialogue.host}" + (
                    f"_{dialogue.address}" if len(hosts.get(dialogue.host, ())) > 1 else ""))
                if label in seen or dialogue.total <= 0:
                    continue
                seen.add(label)
                yield nagiosplugin.Metric(label, Seconds(dialogue.total), "s", min=0, context="host_time")


class CalloutContext(nagiosplugin.Context):
    """Judges one sender's result with the user's policy."""

    def __init__(self, policy: Any) -> None:
        super().__init__("callout")
        self.policy = policy

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        from check_callout.judge import judge

        judgement = judge(metric.value, self.policy)
        state = [nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical, nagiosplugin.Unknown][
            judgement.state
        ]
        return self.result_cls(state, judgement.summary, metric)


class CalloutSummary(nagiosplugin.Summary):
    """Words the result: the worst sender first; every host in the long output."""

    def __init__(self, verbosity: int, policy: Any) -> None:
        self.verbosity = verbosity
        self.policy = policy

    def _callout_results(self, results: nagiosplugin.Results) -> list[nagiosplugin.Result]:
        return [r for r in results if r.metric is not None and r.metric.context == "callout"]

    def ok(self, results: nagiosplugin.Results) -> str:
        callouts = self._callout_results(results)
        if len(callouts) == 1:
            return _short(callouts[0].hint)
        return _short(f"{len(callouts)} senders pass callouts; {callouts[0].hint}")

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
        return _short(first.hint, more)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines: list[str] = []
        for result in self._callout_results(results):
            lines.extend(describe_result(result.metric.value, self.verbosity, self.policy))
        return lines


def _short(text: str, more: str = "") -> str:
    """The summary within the first line's limit, ``more`` kept whole at its end."""
    return cut_words(sanitize(text, 10_000), summary_limit(NAME) - len(more)) + more


def build_parser() -> PluginArgumentParser:
    parser = PluginArgumentParser(
        prog="check_callout",
        plugin_name=NAME,
        version=__version__,
        description=(
            "Predict what a receiver that verifies senders by callout (Exim verify = "
            "sender/callout, Postfix reject_unverified_sender) does with mail from an "
            "envelope sender: probe the MX hosts of its domain with EHLO, STARTTLS, "
            "MAIL FROM:<>, RCPT TO:<sender>, RSET, QUIT (never DATA)."
        ),
        epilog="Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    )
    what = parser.add_argument_group("what to verify")
    what.add_argument("-s", "--sender", action="append", default=[], metavar="ADDRESS",
                      help="envelope sender to verify (repeatable)")
    what.add_argument("-d", "--domain", action="append", default=[], metavar="DOMAIN",
                      help="verify postmaster@DOMAIN (repeatable)")
    where = parser.add_argument_group("where to probe")
    where.add_argument("-H", "--hostname", metavar="HOST",
                       help="probe this host (name or address) instead of the MX hosts")
    where.add_argument("-p", "--port", type=port_number, default=25, help="SMTP port (default: 25)")
    family = where.add_mutually_exclusive_group()
    family.add_argument("-4", dest="families", action="store_const", const=(4,), help="IPv4 only")
    family.add_argument("-6", dest="families", action="store_const", const=(6,), help="IPv6 only")
    where.add_argument("--nameserver", metavar="IP", help="DNS server to ask (default: resolv.conf)")
    where.add_argument("--dns-port", type=port_number, default=53, help="DNS server port (default: 53)")
    where.add_argument("--max-hosts", type=int, default=10, metavar="N",
                       help="probe at most N MX hosts per domain (default: 10)")
    how = parser.add_argument_group("the dialogue")
    how.add_argument("--helo", metavar="NAME", help="EHLO/HELO name (default: this host's FQDN)")
    how.add_argument("--mail-from", default="", metavar="ADDRESS",
                     help="MAIL FROM address (default: the null sender <>, as Exim's callout)")
    how.add_argument("--no-starttls", dest="starttls", action="store_false",
                     help="do not use STARTTLS even when offered")
    how.add_argument("--random", action="store_true",
                     help="first ask for a random local part; a host that accepts it accepts anything")
    how.add_argument("--postmaster", action="store_true", help="also verify postmaster@DOMAIN")
    judging = parser.add_argument_group("judging")
    judging.add_argument("--implicit-mx", choices=("ok", "warning", "critical"), default="warning",
                         help="state when the domain has no MX but an address (default: warning)")
    judging.add_argument("--allow-private", action="store_true",
                         help="do not warn when MX hosts resolve to loopback/private/link-local addresses")
    judging.add_argument("-w", "--warning", type=nagios_range, metavar="RANGE",
                         help="warning range for the deciding dialogue time (seconds)")
    judging.add_argument("-c", "--critical", type=nagios_range, metavar="RANGE",
                         help="critical range for the deciding dialogue time (seconds)")
    run = parser.add_argument_group("running")
    add_run_options(run, "check_callout", __version__, "-v phase times, -vv SMTP transcript, -vvv tracebacks")
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    check_argv(argv)
    args = build_parser().parse_args(argv)
    if not args.sender and not args.domain:
        raise UsageError("give at least one sender (-s ADDRESS) or domain (-d DOMAIN)")
    if args.max_hosts < 1 or args.max_hosts > 100:
        raise UsageError("--max-hosts must be between 1 and 100")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    plugin_main(NAME, parse_arguments, run, argv)


def run(args: argparse.Namespace, start: float) -> None:
    from check_callout.address import AddressError, domain_address, parse_address
    from check_callout.engine import CalloutOptions
    from check_callout.judge import IMPLICIT_MX_STATES, Policy

    try:
        senders = [parse_address(s) for s in args.sender] + [domain_address(d) for d in args.domain]
        if args.mail_from:
            parse_address(args.mail_from)
        if args.helo is not None:
            from check_callout.address import to_ascii_domain

            to_ascii_domain(args.helo)
    except AddressError as exc:
        raise UsageError(str(exc)) from None
    options = CalloutOptions(
        port=args.port, helo=args.helo, mail_from=args.mail_from, starttls=args.starttls,
        timeout=min(30.0, args.timeout), connect_timeout=args.connect_timeout,
        nameserver=args.nameserver, dns_port=args.dns_port, families=args.families or (6, 4),
        max_hosts=args.max_hosts, host=args.hostname, random=args.random, postmaster=args.postmaster,
        transcript=args.verbose >= 2,
    )
    if args.hostname is not None and not args.hostname.strip():
        raise UsageError("empty host name (-H)")
    if args.nameserver is not None:
        from check_callout.mxlookup import is_ip

        if not is_ip(args.nameserver):
            raise UsageError(f"--nameserver must be an IP address: {args.nameserver!r}")
    policy = Policy(implicit_mx=IMPLICIT_MX_STATES[args.implicit_mx],
                    private=0 if args.allow_private else 1, explicit_host=bool(args.hostname))
    deadline = start + max(0.2, args.timeout - OUTPUT_RESERVE)
    check = nagiosplugin.Check(
        Callout(senders, options, deadline),
        CalloutContext(policy),
        nagiosplugin.ScalarContext("time", args.warning, args.critical),
        nagiosplugin.ScalarContext("count"),
        nagiosplugin.ScalarContext("host_time"),
        CalloutSummary(args.verbose, policy),
    )
    execute(check, args.verbose, args.timeout)


if __name__ == "__main__":
    main()

"""check_callout: the command line and the wiring.

The nagiosplugin parts (Resource, Context, Summary) are in :mod:`check_callout.check`;
this module parses the command line into :class:`~check_callout.settings.Settings`
and runs the check within ``-t``.
"""

from __future__ import annotations

import nagiosplugin

from check_callout import __version__
from check_callout.check import NAME
from check_callout.kit.budget import Budget
from check_callout.kit.cli import (
    PluginArgumentParser,
    add_dns_options,
    add_family_options,
    add_port_option,
    add_run_options,
    add_smtp_options,
    nagios_range,
)
from check_callout.kit.runner import execute, plugin_main
from check_callout.receivers import DEFAULT_RECEIVERS, PROFILES, STRICT_PROFILES, STRICT_RECEIVERS
from check_callout.receivers.strict import STRICT
from check_callout.settings import MAX_HOSTS, Settings, from_arguments

TYPE_CHECKING = False  # typing is not imported at run time: start-up time matters
if TYPE_CHECKING:
    from collections.abc import Sequence


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
    what.add_argument(
        "-s",
        "--sender",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="envelope sender to verify (repeatable)",
    )
    what.add_argument(
        "-d",
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="verify postmaster@DOMAIN (repeatable)",
    )
    where = parser.add_argument_group("where to probe")
    where.add_argument(
        "-H", "--hostname", metavar="HOST", help="probe this host (name or address) instead of the MX hosts"
    )
    add_port_option(where)
    add_family_options(where)
    add_dns_options(where)
    where.add_argument(
        "--max-hosts",
        type=int,
        default=MAX_HOSTS,
        metavar="N",
        help=f"probe at most N MX hosts per domain (default: {MAX_HOSTS})",
    )
    how = parser.add_argument_group("the dialogue")
    add_smtp_options(how)
    how.add_argument(
        "--mail-from",
        default="",
        metavar="ADDRESS",
        help="MAIL FROM address (default: the null sender <>, as Exim's callout)",
    )
    how.add_argument(
        "--random",
        action="store_true",
        help="first ask for a random local part; a host that accepts it accepts anything",
    )
    how.add_argument("--postmaster", action="store_true", help="also verify postmaster@DOMAIN")
    receivers = parser.add_argument_group("receivers to predict")
    receivers.add_argument(
        "--receiver",
        action="append",
        default=[],
        choices=sorted([*PROFILES, *STRICT_PROFILES]),
        metavar="PROFILE",
        help="predict what this receiver does (repeatable; the first decides the state): "
        f"{', '.join([*PROFILES, *STRICT_PROFILES])} (default: {' and '.join(DEFAULT_RECEIVERS)}, "
        f"exim deciding; with --client-ip {' and '.join(STRICT_RECEIVERS)})",
    )
    receivers.add_argument(
        "--postfix-sender",
        metavar="DOMAIN",
        help="domain of the Postfix receiver's probe sender double-bounce@DOMAIN, asked on the same "
        "connection (default: the --helo name)",
    )
    strict = parser.add_argument_group(
        "sender checks (strict receivers, docs/strict.md)",
        "With --client-ip the sender checks run beside the callout (SPF of the MAIL FROM "
        "domain and of the HELO name, the HELO name, the client's reverse DNS, the sender "
        "domain) and the default receivers are exim:strict then postfix:strict. exim:strict: "
        f"{STRICT['exim:strict'].config}. postfix:strict: {STRICT['postfix:strict'].config}.",
    )
    strict.add_argument(
        "--client-ip",
        action="append",
        default=[],
        metavar="ADDR",
        help="the address the mail leaves from, as the receiver sees it (repeatable: a dual-stack "
        "sender; each is judged); needs --helo-name; -s '<>' checks the null sender (no callout)",
    )
    strict.add_argument(
        "--helo-name",
        metavar="NAME",
        help="the name the mail's sender says in EHLO (not --helo, this check's own EHLO name)",
    )
    judging = parser.add_argument_group("judging")
    judging.add_argument(
        "--implicit-mx",
        choices=("ok", "warning", "critical"),
        default="warning",
        help="state when the domain has no MX but an address (default: warning)",
    )
    judging.add_argument(
        "--unreachable-family",
        choices=("ok", "warning"),
        default="ok",
        help="state when MX addresses of a family this host has no route for (an IPv6 MX "
        "from an IPv4-only host) could not be probed while another address decided (default: "
        "ok, with a note)",
    )
    judging.add_argument(
        "--allow-private",
        action="store_true",
        help="do not warn when MX hosts resolve to loopback/private/link-local addresses",
    )
    judging.add_argument(
        "-w",
        "--warning",
        type=nagios_range,
        metavar="RANGE",
        help="warning range for the deciding dialogue time (seconds)",
    )
    judging.add_argument(
        "-c",
        "--critical",
        type=nagios_range,
        metavar="RANGE",
        help="critical range for the deciding dialogue time (seconds)",
    )
    run = parser.add_argument_group("running")
    add_run_options(run, "check_callout", __version__, "-v phase times, -vv SMTP transcript, -vvv tracebacks")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    plugin_main(NAME, build_parser, from_arguments, run, argv)


def run(settings: Settings, start: float) -> None:
    """Wire the resource, contexts and summary, and run the check within ``-t``."""
    from check_callout.check import Callout, CalloutContext, CalloutSummary

    budget = Budget(start, settings.timeout)
    check = nagiosplugin.Check(
        Callout(settings.senders, settings.callout, budget.deadline, settings.sender_checks),
        CalloutContext(settings.policy),
        nagiosplugin.ScalarContext("time", settings.warning, settings.critical),
        nagiosplugin.ScalarContext("count"),
        nagiosplugin.ScalarContext("host_time"),
        CalloutSummary(settings.verbose),
    )
    execute(check, settings.verbose, settings.timeout)


if __name__ == "__main__":
    main()

"""check_nullmailer: the command line and the wiring.

Two vantage points, one executable:

- ``-H HOST`` (from the monitoring host): :mod:`check_nullmailer.remote`, SMTP ports
  closed, or an open port that relays for nobody and takes no inbound mail;
- ``--local`` (on the null mailer): :mod:`check_nullmailer.local` measures (sockets,
  the MTA's settings through :mod:`check_nullmailer.mta`, the envelope origin's
  callouts, the queue), :mod:`check_nullmailer.local_judge` judges.

:mod:`check_nullmailer.summary` words both.  Resources only measure, contexts only
judge, the summary only words the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import nagiosplugin

from check_callout.kit.budget import Budget
from check_callout.kit.cli import (
    PluginArgumentParser,
    add_dns_options,
    add_family_options,
    add_port_option,
    add_run_options,
    add_smtp_options,
    nagios_range,
    port_list,
)
from check_callout.kit.runner import execute, plugin_main
from check_nullmailer import __version__
from check_nullmailer.settings import DEFAULT_PORTS, QUEUE_CRITICAL, QUEUE_WARNING, Settings, from_arguments

NAME = "NULLMAILER"


def build_parser() -> PluginArgumentParser:
    from check_nullmailer.mta import MTAS
    from check_nullmailer.relay_forms import DEFAULT_RELAY_TO

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
        "--filtered-closed",
        action="store_true",
        help="a port that never answers counts as closed even when no port of the address "
        "answers (default: then the check cannot tell: UNKNOWN)",
    )
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
    add_family_options(remote)
    local = parser.add_argument_group("from inside (--local)")
    local.add_argument("--mta", choices=("auto",) + MTAS, default="auto", help="the MTA (default: auto)")
    local.add_argument("--postfix-config", metavar="DIR", help="Postfix configuration directory")
    local.add_argument("--exim-config", metavar="FILE", help="Exim configuration file")
    local.add_argument("--root", metavar="DIR", help="prefix for every configuration path (tests, chroots)")
    local.add_argument(
        "--allow-listen", action="store_true", help="do not warn about SMTP listeners on public addresses"
    )
    local.add_argument(
        "--sudo",
        action="store_true",
        help="read a queue that only root may list (Exim, OpenSMTPD) through sudo -n "
        "(see contrib/sudoers.d/check_nullmailer)",
    )
    local.add_argument("--origin", metavar="DOMAIN", help="envelope sender domain (default: from the MTA)")
    local.add_argument("--sender", metavar="ADDRESS", help="sender to verify (default: postmaster@origin)")
    local.add_argument(
        "--client-ip",
        action="append",
        metavar="ADDR",
        help="the public address this host's mail leaves from, when it is behind NAT (repeat "
        "for IPv4 and IPv6; default: the MTA's bind address or the kernel's route source)",
    )
    local.add_argument(
        "--queue-warning",
        type=nagios_range,
        default=QUEUE_WARNING,
        metavar="RANGE",
        help=f"warning range for deferred messages (default: {QUEUE_WARNING})",
    )
    local.add_argument(
        "--queue-critical",
        type=nagios_range,
        default=QUEUE_CRITICAL,
        metavar="RANGE",
        help=f"critical range for deferred messages (default: {QUEUE_CRITICAL})",
    )
    add_dns_options(local)
    add_port_option(local)
    both = parser.add_argument_group("both")
    add_smtp_options(both)
    add_run_options(
        both, "check_nullmailer", __version__, "-v every test, -vv SMTP transcripts, -vvv tracebacks"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    plugin_main(NAME, build_parser, from_arguments, run, argv)


def run(settings: Settings, start: float) -> None:
    """Wire the audit's resource, contexts and summary, and run it within ``-t``."""
    from check_nullmailer.contexts import PerfContext, ProblemContext
    from check_nullmailer.summary import NullmailerSummary

    deadline = Budget(start, settings.timeout).deadline
    resource: nagiosplugin.Resource
    if settings.local:
        from check_nullmailer.local import LocalAudit
        from check_nullmailer.local_judge import (
            CalloutQueueContext,
            DeferredContext,
            EgressContext,
            ExposureContext,
            OriginContext,
            QueueUnreadContext,
        )
        from check_nullmailer.strict_judge import StrictContext

        resource = LocalAudit(settings, deadline)
        contexts: list[nagiosplugin.Context] = [
            ExposureContext(),
            OriginContext(),
            EgressContext(),
            StrictContext(),
            DeferredContext("deferred", settings.queue_warning, settings.queue_critical),
            CalloutQueueContext(),
            QueueUnreadContext(),
        ]
    else:
        from check_nullmailer.remote import RelayContext, RemoteAudit

        resource = RemoteAudit(settings, deadline)
        contexts = [RelayContext()]
    check = nagiosplugin.Check(
        resource, *contexts, ProblemContext(), PerfContext(), NullmailerSummary(settings.verbose)
    )
    execute(check, settings.verbose, settings.timeout)


if __name__ == "__main__":
    main()

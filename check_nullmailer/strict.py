"""Will strict receivers take this host's mail?  The sender checks of
:mod:`check_callout.senders` (SPF, the HELO name, reverse DNS, the sender domain) for
the null mailer's own envelope sender, HELO name and egress address, judged as the
``exim:strict`` (deciding) and ``postfix:strict`` receivers judge them.

What is checked depends on how the mail leaves (:mod:`check_nullmailer.mta.egress`):

- **direct delivery**: every check, on this host's HELO name and source addresses (or
  ``--client-ip``); a source that is not public without ``--client-ip`` cannot be
  judged (behind NAT receivers see another address);
- **smarthost**: only what depends on the envelope sender: SPF of its domain for the
  smarthost's addresses (or ``--client-ip``), and the domain itself.  The HELO name and
  reverse DNS receivers see are the smarthost's own: said, not judged.

The checks run beside the origin's callouts (:class:`~check_nullmailer.local.LocalAudit`),
for the origin and for the domain the fix would use, so they add about one DNS round
trip to the run, not a sequence of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from check_nullmailer.mta.egress import DIRECT, SMARTHOST

STRICT_RECEIVERS = ("exim:strict", "postfix:strict")  # the first decides
# the checks that depend on the envelope sender alone (a smarthost's mail)
ENVELOPE_ONLY = ("sender_fqdn", "sender_domain", "spf_mfrom", "spf_exim")
# the MTA's own name for its HELO setting, for the fix
HELO_PARAMETER = {
    "postfix": "smtp_helo_name",
    "exim": "helo_data (Debian: REMOTE_SMTP_HELO_DATA)",
    "nullmailer": "helohost",
    "ssmtp": "hostname",
    "msmtp": "domain",
    "dma": "MAILNAME",
    "opensmtpd": "helo (in the relay action)",
}


@dataclass
class Plan:
    """What the checks run on, or why they cannot run (``blind``)."""

    clients: tuple[str, ...] = ()
    helo: str = ""
    envelope_only: bool = False  # a smarthost: the sender-dependent checks only
    blind: str = ""


@dataclass
class StrictReport:
    """The sender checks for the origin's sender and for the fix's domain, and the
    strict receivers' answers (filled in once the callouts are known)."""

    egress: Any  # mta.egress.Egress
    plan: Plan
    sender: str
    checks: Any = None  # senders.result.SenderChecks
    predictions: list[Any] = field(default_factory=list)  # exim:strict first
    fixes: list[str] = field(default_factory=list)
    alt_domain: str = ""
    alt_checks: Any = None
    alt_predictions: list[Any] = field(default_factory=list)
    alt_fixes: list[str] = field(default_factory=list)


def plan(egress: Any, client_ips: tuple[str, ...]) -> Plan:
    """The client addresses and HELO name the receivers would see, or why not known."""
    from check_nullmailer.mta.egress_source import non_public

    if egress.route == SMARTHOST:
        clients = tuple(client_ips or egress.relay_addresses)
        if not clients:
            return Plan(blind=f"the smarthost {egress.smarthost}'s addresses are not known; give --client-ip")
        return Plan(clients, egress.smarthost, envelope_only=True)
    if egress.route != DIRECT:
        return Plan(
            blind="how the mail leaves is not known (" + ("; ".join(egress.notes) or "no route") + ")"
        )
    if not egress.sources:
        return Plan(blind="the address the mail leaves from is not known; give --client-ip")
    hidden = [] if client_ips else non_public(egress)
    if hidden:
        return Plan(blind=f"{', '.join(hidden)} is not a public address (NAT?): give --client-ip ADDR")
    if not egress.helo:
        return Plan(blind="the HELO name the MTA sends is not known")
    return Plan(tuple(egress.sources), egress.helo)


def run_checks(
    plan_: Plan, sender: str, nameserver: str | None, dns_port: int, deadline: float, lookup: Any = None
) -> Any:
    """The sender checks (``SenderChecks``), restricted to the envelope for a smarthost;
    ``lookup``: the DNS shared with another sender's checks
    (:func:`check_callout.senders.lookup_for`), None: their own."""
    from check_callout.senders import run_sender_checks

    checks = run_sender_checks(
        plan_.clients,
        plan_.helo,
        sender,
        nameserver=nameserver,
        dns_port=dns_port,
        deadline=deadline,
        lookup=lookup,
    )
    if plan_.envelope_only:
        for client in checks.clients:
            seen = checks.per_client[client]
            checks.per_client[client] = {k: v for k, v in seen.items() if k in ENVELOPE_ONLY}
    return checks


def as_strict(callout: list[Any]) -> list[Any]:
    """The callout's ``exim``/``postfix`` predictions under the strict profiles' names:
    a strict profile's callout is its base profile's, with the same settings."""
    from check_callout.receivers import STRICT_PROFILES, Prediction

    renamed = []
    for name, profile in STRICT_PROFILES.items():
        base = name.partition(":")[0]
        for p in callout:
            if p.profile.name == base:
                renamed.append(Prediction(profile, p.action, p.code, p.text, p.reason, p.also))
    return renamed


def finish(report: StrictReport, mta: str, callout: Any, alt_callout: Any) -> StrictReport:
    """The strict receivers' answers and the fixes, once the callouts are known."""
    from check_callout.senders import fix_for, strict_predictions

    parameter = HELO_PARAMETER.get(mta, "the HELO name")
    if report.checks is not None:
        prior = as_strict(callout.predictions) if callout is not None else None
        report.predictions = strict_predictions(report.checks, prior, STRICT_RECEIVERS)
        domain = report.sender.rpartition("@")[2]
        report.fixes = fix_for(
            domain, report.plan.clients, report.plan.helo, helo_parameter=parameter, checks=report.checks
        )
    if report.alt_checks is not None:
        prior = as_strict(alt_callout.predictions) if alt_callout is not None else None
        report.alt_predictions = strict_predictions(report.alt_checks, prior, STRICT_RECEIVERS)
        report.alt_fixes = fix_for(
            report.alt_domain,
            report.plan.clients,
            report.plan.helo,
            helo_parameter=parameter,
            checks=report.alt_checks,
        )
    return report

"""Sender checks as strict receivers run them: SPF, the HELO name, reverse DNS and the
sender domain, beside the callout.

Public API (stable; other parts of the suite call these):

``run_sender_checks(client_ips, helo, sender, *, nameserver, dns_port, deadline) -> SenderChecks``
    Every check for mail from ``sender`` ("" or "<>": the null sender, whose SPF
    identity is ``postmaster@HELO``) sent from ``client_ips`` after ``EHLO helo``, through
    ``nameserver``:``dns_port`` (None: the system's resolver), all finished by
    ``deadline`` (``time.monotonic()``).  A lookup that could not complete makes its
    check ``unknown`` (cannot tell), never a pass.

``strict_predictions(checks, callout, receivers) -> list[Prediction]``
    One :class:`~check_callout.receivers.profile.Prediction` per receiver name: a strict
    profile (``exim:strict``, ``postfix:strict``) walks its checks in its order, the first
    failing one deciding, and answers as its callout profile does when all pass;
    ``callout`` holds the callout's predictions (None for a null sender: no callout).
    A strict prediction is a :class:`~check_callout.senders.judging.StrictPrediction`
    (``failing``: the check that decided; ``blind``: checks that could not tell).

``fix_for(domain, egress_ips, helo, *, helo_parameter="smtp_helo_name", nameserver=None,
dns_port=53, deadline=None, checks=None) -> list[str]``
    What to change so that every strict check passes, one sentence each (empty: nothing).

Modules: ``lookup`` (DNS through the plugin's resolver and deadline), ``spf`` (pyspf),
``helo``, ``reverse``, ``domain`` (the checks), ``result`` (their values), ``checks``
(running them), ``judging`` (the strict receivers' answers), ``fix`` (what to change).
The receivers' side is data: :mod:`check_callout.receivers.strict`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.receivers.profile import Prediction
    from check_callout.senders.result import SenderChecks

__all__ = ["fix_for", "run_sender_checks", "strict_predictions"]


def run_sender_checks(
    client_ips: Sequence[str],
    helo: str,
    sender: str,
    *,
    nameserver: str | None = None,
    dns_port: int = 53,
    deadline: float,
) -> SenderChecks:
    """See the module's docstring."""
    from check_callout.senders.checks import run_sender_checks as run

    return run(client_ips, helo, sender, nameserver=nameserver, dns_port=dns_port, deadline=deadline)


def strict_predictions(
    checks: SenderChecks | None, callout: Sequence[Prediction] | None, receivers: Sequence[str]
) -> list[Prediction]:
    """See the module's docstring."""
    from check_callout.senders.judging import strict_predictions as combine

    return combine(checks, callout, receivers)


def fix_for(
    domain: str,
    egress_ips: Sequence[str],
    helo: str,
    *,
    helo_parameter: str = "smtp_helo_name",
    nameserver: str | None = None,
    dns_port: int = 53,
    deadline: float | None = None,
    checks: SenderChecks | None = None,
) -> list[str]:
    """See the module's docstring."""
    from check_callout.senders.fix import fix_for as fixes

    return fixes(
        domain,
        egress_ips,
        helo,
        helo_parameter=helo_parameter,
        nameserver=nameserver,
        dns_port=dns_port,
        deadline=deadline,
        checks=checks,
    )

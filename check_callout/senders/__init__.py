"""Sender checks as strict receivers run them: SPF, the HELO name, reverse DNS and the
sender domain, beside the callout.

Public API (stable; other parts of the suite call these):

``run_sender_checks(client_ips, helo, sender, *, nameserver, dns_port, deadline,
lookup=None) -> SenderChecks``
    Every check for mail from ``sender`` ("" or "<>": the null sender, whose SPF
    identity is ``postmaster@HELO``) sent from ``client_ips`` after ``EHLO helo``, through
    ``nameserver``:``dns_port`` (None: the system's resolver), all finished by
    ``deadline`` (``time.monotonic()``).  A lookup that could not complete makes its
    check ``unknown`` (cannot tell), never a pass.  ``lookup`` (from ``lookup_for``):
    DNS shared with other senders' checks.

``strict_predictions(checks, callout, receivers) -> list[Prediction]``
    One :class:`~check_callout.receivers.profile.Prediction` per receiver name: a strict
    profile (``exim:strict``, ``postfix:strict``) walks its checks in its order, the first
    failing one deciding, and answers as its callout profile does when all pass;
    ``callout`` holds the callout's predictions (None for a null sender: no callout).
    A strict prediction is a :class:`~check_callout.senders.judging.StrictPrediction`
    (``failing``: the check that decided; ``blind``: checks that could not tell).

``lookup_for(nameserver, dns_port, deadline) -> Lookup``
    The DNS of sender checks that end by ``deadline``; given to the
    ``run_sender_checks(..., lookup=)`` of several senders from the same clients, it asks
    each question (the HELO name's addresses, each client's PTR, the HELO name's SPF)
    once for all of them.

``fix_for(domain, egress_ips, helo, *, helo_parameter="smtp_helo_name", nameserver=None,
dns_port=53, deadline=None, checks=None) -> list[str]``
    What to change so that every strict check passes, one sentence each (empty: nothing).

Modules: ``lookup`` (DNS through the plugin's resolver and deadline), ``spf`` (pyspf),
``helo``, ``reverse``, ``domain`` (the checks), ``result`` (their values), ``checks``
(running them), ``judging`` (the strict receivers' answers), ``fix`` (what to change).
The receivers' side is data: :mod:`check_callout.receivers.strict`.  The names above
are those modules' own functions, imported when first used (a run without sender checks
never imports them).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from check_callout.senders.checks import lookup_for, run_sender_checks
    from check_callout.senders.fix import fix_for
    from check_callout.senders.judging import strict_predictions

__all__ = ["fix_for", "lookup_for", "run_sender_checks", "strict_predictions"]

_HOMES = {
    "fix_for": "fix",
    "lookup_for": "checks",
    "run_sender_checks": "checks",
    "strict_predictions": "judging",
}


def __getattr__(name: str) -> Any:
    """The public functions, from the module that holds each, imported on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(__import__(f"{__name__}.{home}", fromlist=[name]), name)

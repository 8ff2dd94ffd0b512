"""Run every sender check for one sender, concurrently and within the deadline.

The questions (the HELO name's addresses, each client's PTR and its names' addresses,
the sender domain, SPF of the MAIL FROM and HELO identities per client) are
independent: they are asked at once, so the checks take about as long as the slowest
chain of lookups (SPF includes, PTR then A), not their sum.  A job that has not
finished by the deadline is "cannot tell".
"""

from __future__ import annotations

import time

from check_callout.kit.parallel import run_parallel
from check_callout.senders import domain as domain_checks
from check_callout.senders import helo as helo_checks
from check_callout.senders import reverse as reverse_checks
from check_callout.senders.result import NOT_ASKED, UNKNOWN, Check, SenderChecks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from check_callout.senders.lookup import Lookup
    from check_callout.senders.spf import SPFResult

LATE = "no answer before the check's time ran out"


def lookup_for(nameserver: str | None, dns_port: int, deadline: float) -> Lookup:
    """The DNS of sender checks finished by ``deadline``: answers are kept, so the checks
    of several senders from the same clients and HELO name that share it ask each
    question (the HELO name's addresses, each client's PTR, the HELO name's SPF) once.
    Cheap to make: dnspython is imported by the first question."""
    from check_callout.senders.lookup import Lookup

    # lookups end a little before the jobs' deadline, so that a lookup that never
    # answers comes back as such (an SPF temperror, a "timeout") rather than unfinished
    return Lookup(nameserver, dns_port, deadline - min(0.25, 0.1 * max(0.0, deadline - time.monotonic())))


def run_sender_checks(
    client_ips: Sequence[str],
    helo: str,
    sender: str,
    *,
    nameserver: str | None = None,
    dns_port: int = 53,
    deadline: float,
    lookup: Lookup | None = None,
) -> SenderChecks:
    """Every check for mail from ``sender`` ("" or "<>": the null sender) sent by
    ``client_ips`` after ``EHLO helo``, through ``nameserver``:``dns_port`` (the
    system's resolver when None), finished by ``deadline`` (``time.monotonic()``).
    ``lookup``: the DNS shared with other senders' checks (:func:`lookup_for`, with
    these settings and deadline); None: this sender's own."""
    started = time.monotonic()
    sender = "" if sender.strip() in ("", "<>") else sender.strip()
    domain = sender.rpartition("@")[2].lower().rstrip(".") if sender else ""
    clients = tuple(dict.fromkeys(client_ips))
    if lookup is None:
        lookup = lookup_for(nameserver, dns_port, deadline)
    spf_helo_ok = helo_checks.syntax(helo).outcome in ("ok", "underscore")

    jobs: dict[tuple[str, str], Callable[[], Any]] = {
        ("helo", ""): lambda: helo_checks.helo_lookups(lookup, helo),
        ("domain", ""): lambda: domain_checks.exists(lookup, domain),
    }
    for client in clients:
        jobs[("reverse", client)] = lambda c=client: reverse_checks.look_up(lookup, c)
        if spf_helo_ok:
            jobs[("spf_helo", client)] = lambda c=client: _spf(lookup, c, "", helo)
        if sender:
            jobs[("spf_mfrom", client)] = lambda c=client: _spf(lookup, c, sender, helo)
    done = run_parallel(jobs, deadline, workers=len(jobs))

    def got(key: tuple[str, str]) -> Any:
        value = done.get(key)
        return None if value is None or isinstance(value, BaseException) else value

    helo_answers = got(("helo", ""))
    addresses, mx = helo_answers if helo_answers is not None else ([], None)
    shared = {
        "helo_syntax": helo_checks.syntax(helo),
        "helo_fqdn": helo_checks.fqdn(helo),
        "helo_found": helo_checks.found(helo, addresses, mx)
        if helo_answers is not None
        else Check("helo_found", UNKNOWN, f"A/AAAA {helo}: {LATE}"),
        "sender_fqdn": domain_checks.fqdn(domain),
        "sender_domain": got(("domain", "")) or Check("sender_domain", UNKNOWN, f"MX {domain}: {LATE}"),
    }
    per_client = {}
    for client in clients:
        checks = dict(shared)
        reverse = got(("reverse", client))
        if reverse is None:
            checks["ptr"] = Check("ptr", UNKNOWN, f"PTR of {client}: {LATE}")
            checks["ptr_confirmed"] = Check("ptr_confirmed", UNKNOWN, f"PTR of {client}: {LATE}")
            confirmed: list[str] = []
        else:
            checks["ptr"] = reverse_checks.ptr_check(reverse)
            checks["ptr_confirmed"] = reverse_checks.confirmed_check(reverse)
            confirmed = reverse.confirmed_names
        if helo_answers is None:
            checks["helo_client"] = Check("helo_client", UNKNOWN, f"A/AAAA {helo}: {LATE}")
        else:
            checks["helo_client"] = helo_checks.resolves_to(helo, client, addresses, confirmed)
        helo_spf = got(("spf_helo", client)) if spf_helo_ok else None
        checks["spf_helo"] = _spf_check("spf_helo", helo_spf, f"SPF of {helo}", spf_helo_ok)
        if sender:
            checks["spf_mfrom"] = _spf_check("spf_mfrom", got(("spf_mfrom", client)), f"SPF of {domain}")
        else:
            checks["spf_mfrom"] = Check("spf_mfrom", NOT_ASKED, "null sender: the HELO name is the identity")
        checks["spf_exim"] = _exim_spf(lookup, checks["spf_mfrom"] if sender else checks["spf_helo"], helo)
        per_client[client] = checks
    result = SenderChecks(sender, helo, clients, per_client)
    result.took = time.monotonic() - started
    return result


def _spf(lookup: Lookup, client: str, sender: str, helo: str) -> SPFResult:
    from check_callout.senders.spf import evaluate

    return evaluate(lookup, client, sender, helo, identity="mailfrom" if sender else "helo")


def _spf_check(key: str, spf: SPFResult | None, what: str, asked: bool = True) -> Check:
    if not asked:
        return Check(key, "none", f"{what}: not a domain name, no SPF to check")
    if spf is None:
        return Check(key, UNKNOWN, f"{what}: {LATE}")
    outcome = UNKNOWN if spf.result == "temperror" and not spf.records else spf.result
    return Check(key, outcome, spf.words(), spf)


def _exim_spf(lookup: Lookup, seen: Check, helo: str) -> Check:
    """Exim's ``spf`` condition: pyspf's answer, except that libspf2 has no void-lookup
    limit (seen on Exim 4.96 with libspf2 1.2.10: a record with three void lookups is
    judged on, where pyspf says permerror)."""
    spf = seen.spf
    if spf is None or spf.result != "permerror" or "void lookup" not in spf.explanation.lower():
        return Check("spf_exim", seen.outcome, seen.saw, spf)
    from check_callout.senders.spf import evaluate

    again = evaluate(lookup, spf.client, spf.sender, helo, identity=spf.identity, void_limit=False)
    return _spf_check("spf_exim", again, f"SPF of {again.domain}")

"""What to change so that strict receivers take the mail: each failing check turned
into one sentence an operator can act on, quoting what was seen.

- SPF: ``add ip4:192.0.2.30 to good.test's SPF record "v=spf1 mx -all"`` (before its
  ``all``), or publish one when there is none and the receiver needs a pass;
- HELO: ``smtp_helo_name = NAME`` (the MTA's own parameter, ``helo_parameter``) for a
  name whose A/AAAA record is the egress address: the forward-confirmed PTR name when
  there is one;
- PTR: the record to ask the address's owner (its provider) for.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.senders.result import Check, SenderChecks

_SPF_FAILING = ("fail", "softfail", "neutral")


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
    local_part: str = "postmaster",
) -> list[str]:
    """The changes that make mail from ``local_part@domain`` sent by ``egress_ips``
    after ``EHLO helo`` pass every strict check (an empty list: nothing to change).

    ``checks`` are the sender checks when already run; otherwise they are run here
    (within ``deadline``, ``time.monotonic()``; 10 s from now when None).
    """
    if checks is None:
        from check_callout.senders.checks import run_sender_checks

        sender = f"{local_part}@{domain}" if domain else ""
        checks = run_sender_checks(
            egress_ips,
            helo,
            sender,
            nameserver=nameserver,
            dns_port=dns_port,
            deadline=deadline if deadline is not None else time.monotonic() + 10.0,
        )
    fixes: list[str] = []
    for client in checks.clients:
        seen = checks.per_client[client]
        for sentence in (
            _helo_fix(seen, checks.helo, client, helo_parameter),
            _ptr_fix(seen, client, checks.helo),
            _domain_fix(seen, checks.sender),
            _spf_fix(seen.get("spf_helo"), client),
            _spf_fix(seen.get("spf_mfrom"), client),
        ):
            if sentence and sentence not in fixes:
                fixes.append(sentence)
    return fixes


def _helo_fix(seen: dict[str, Check], helo: str, client: str, parameter: str) -> str:
    bad = [seen[k] for k in ("helo_syntax", "helo_fqdn", "helo_found", "helo_client") if k in seen]
    if all(c.outcome in ("ok", "literal", "found", "match") for c in bad):
        return ""
    confirmed = seen.get("ptr_confirmed")
    name = ""
    if confirmed is not None and confirmed.outcome == "confirmed":
        name = confirmed.saw.split(" ", 1)[0]
    family = "AAAA" if ":" in client else "A"
    if name:
        return f"{parameter} = {name} (a name whose {family} record is {client}; the HELO name {helo} fails)"
    return f"{parameter} = a name whose {family} record is {client} (the HELO name {helo} fails)"


def _ptr_fix(seen: dict[str, Check], client: str, helo: str) -> str:
    from check_callout.senders.lookup import reverse_name

    confirmed = seen.get("ptr_confirmed")
    if confirmed is None or confirmed.outcome in ("confirmed", "unknown"):
        return ""
    target = helo if "." in helo and not helo.startswith("[") else "your mail host's name"
    return (
        f"ask the owner of {client} (its provider) for the record {reverse_name(client)} PTR {target}, "
        f"a name whose {'AAAA' if ':' in client else 'A'} record is {client}"
    )


def _domain_fix(seen: dict[str, Check], sender: str) -> str:
    check = seen.get("sender_domain")
    fqdn = seen.get("sender_fqdn")
    if fqdn is not None and fqdn.outcome == "short":
        return f"send as an address in a fully qualified domain, not {sender}"
    if check is not None and check.outcome in ("none", "null_mx"):
        return f"send as an address in a domain that exists and takes mail, not {sender} ({check.saw})"
    return ""


def _spf_fix(check: Check | None, client: str) -> str:
    if check is None or check.spf is None:
        return ""
    spf = check.spf
    if check.outcome == "permerror":
        return f"repair {spf.domain}'s SPF ({spf.record_words()}): {spf.explanation}"
    if check.outcome not in _SPF_FAILING:
        return ""
    mechanism = f"ip6:{client}" if ":" in client else f"ip4:{client}"
    if len(spf.records) == 1:
        return f'add {mechanism} to {spf.domain}\'s SPF record "{spf.records[0]}"'
    if spf.records:
        many = f"{spf.domain} publishes {len(spf.records)} SPF records ({spf.record_words()})"
        return f"{many}: keep one, with {mechanism}"
    return f'publish an SPF record for {spf.domain} with {mechanism} ("v=spf1 {mechanism} -all")'

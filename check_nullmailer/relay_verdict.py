"""The verdict on one SMTP port from its relay batteries: a state, the one-line reason,
and the detail lines (pure: no I/O).

A foreign recipient accepted in plain form is a proven open relay (CRITICAL); a relay
form accepted only through the server's own name (``%`` hack, bang path, quoted,
``user@foreign@self``) is a possible relay (WARNING); inconclusive or incomplete
batteries and inbound mail are WARNINGs.

A refused connection is a closed port (OK).  No route to the address (ENETUNREACH,
EHOSTUNREACH, EADDRNOTAVAIL) is not: the check could not look, so it cannot tell
(UNKNOWN).  A port that never answers (filtered) counts as closed only when the caller
says so (``filtered_closed``: another port of the address answered, or the user said
that filtered means closed); otherwise it is UNKNOWN too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from check_callout.kit.states import CRITICAL, OK, UNKNOWN, WARNING, worst
from check_nullmailer.relay_forms import ACCEPTED, AUTH, DIRECT_TESTS, RELAYED, TEMPORARY, UNTESTED, Battery


@dataclass
class PortVerdict:
    state: int
    summary: str
    details: list[str] = field(default_factory=list)


def judge_port(
    batteries: list[Battery],
    *,
    expect_closed: bool = False,
    allow_inbound: bool = False,
    filtered_closed: bool = True,
) -> PortVerdict:
    """The state of one port from its batteries (plain, then STARTTLS; or implicit TLS)."""
    first = batteries[0]
    port = first.port
    if not first.listening:
        detail = [f"port {port}: {first.closed_reason}"]
        if first.closed_kind == "unreachable":
            return PortVerdict(UNKNOWN, f"cannot tell: port {port}: {first.closed_reason}", detail)
        if first.closed_kind == "filtered":
            if not filtered_closed:
                detail.append(
                    "no port of this address answered, so a firewall that drops is not told from a "
                    "host that is down or cut off (--filtered-closed: count it as closed)"
                )
                return PortVerdict(UNKNOWN, f"cannot tell: port {port} filtered (no answer)", detail)
            return PortVerdict(OK, f"not listening on {port} (filtered)", detail)
        return PortVerdict(OK, f"not listening on {port}", detail)
    details: list[str] = []
    for battery in batteries:
        details.append(_battery_line(battery))
        if battery.note:
            details.append(battery.note)
    if expect_closed:
        return PortVerdict(CRITICAL, f"port {port} is open (expected closed)", details)
    tests = [t for b in batteries for t in b.tests]
    accepted = [(b, t) for b in batteries for t in b.tests if t.outcome == RELAYED]
    relayed = [(b, t) for b, t in accepted if t.number in DIRECT_TESTS]
    possible = [(b, t) for b, t in accepted if t.number not in DIRECT_TESTS]
    if relayed:
        battery, test = relayed[0]
        distinct = len({t.number for _, t in relayed})  # plain and STARTTLS runs count once
        more = f" (+{distinct - 1} more tests relayed)" if distinct > 1 else ""
        for b, t in relayed[:3]:
            details.append(f"RELAYED {b.where}: {t.describe()}")
        if len(relayed) > 3:
            details.append(f"... and {len(relayed) - 3} more tests relayed (-v lists every test)")
        return PortVerdict(CRITICAL, f"open relay on {battery.where}: {test.describe()}{more}", details)
    problems = [b for b in batteries if b.problem]
    states: list[tuple[int, str]] = []
    if possible:
        battery, test = possible[0]
        distinct = len({t.number for _, t in possible})
        more = f" (+{distinct - 1} more such tests)" if distinct > 1 else ""
        states.append((WARNING, f"possible relay on {battery.where}: {test.describe()}{more}"))
        details.append(
            "accepted recipients addressed through the server's own name (% hack, bang "
            "path, quoted or user@foreign@self): it relays them only if it routes such "
            "forms onward (e.g. Exim percent_hack_domains); plain foreign recipients were refused"
        )
    for battery in problems:
        states.append((WARNING, f"{battery.where}: {battery.problem}"))
    for battery in batteries:
        if battery.note:
            states.append((WARNING, battery.note))
    ran = [t for t in tests if t.outcome != UNTESTED]
    untested = [t for t in tests if t.outcome == UNTESTED]
    temporary = [t for t in ran if t.outcome == TEMPORARY]
    auth = [t for t in ran if t.outcome == AUTH]
    if ran and temporary:
        example = temporary[0].reply or temporary[0].mail
        states.append(
            (
                WARNING,
                f"relay test inconclusive on port {port}: {len(temporary)} of {len(tests)} "
                f"tests answered only 4xx (e.g. {example})",
            )
        )
    if untested and ran:
        states.append(
            (
                WARNING,
                f"relay battery incomplete on port {port}: {len(untested)} of {len(tests)} "
                f"tests not run ({untested[0].detail or 'no answer'})",
            )
        )
    elif untested and not problems:
        states.append(
            (WARNING, f"relay battery could not run on port {port}: {untested[0].detail or 'no answer'}")
        )
    for battery in batteries:
        inbound = battery.inbound
        if inbound is not None and inbound.outcome == ACCEPTED and not allow_inbound:
            states.append(
                (
                    WARNING,
                    f"accepts inbound mail on {battery.where}: RCPT TO:<{inbound.rcpt}> "
                    f"answered {inbound.reply}",
                )
            )
            break
    for t in tests:
        if t.outcome != UNTESTED:
            continue
        details.append(f"untested {t.describe()}")
    if states:
        state = worst(s for s, _ in states)
        words = [text for s, text in states if s == state] + [text for s, text in states if s != state]
        return PortVerdict(state, "; ".join(words), details)
    if ran and len(auth) == len(ran):
        code = auth[0].reply or auth[0].mail
        return PortVerdict(OK, f"relay refused on port {port}: authentication required ({code})", details)
    return PortVerdict(OK, f"relay refused on port {port} ({len(ran)} tests)", details)


VIA_OWN_NAME = "accepted through its own name"  # a relay form accepted, not proven relayed
_OUTCOME_WORDS = {AUTH: "need authentication", TEMPORARY: "answered only 4xx"}
_INBOUND_WORDS = {AUTH: "needs authentication", TEMPORARY: "answered 4xx"}


def _battery_line(battery: Battery) -> str:
    counts: dict[str, int] = {}
    for test in battery.tests:
        key = test.outcome
        if key == RELAYED and test.number not in DIRECT_TESTS:
            key = VIA_OWN_NAME
        counts[key] = counts.get(key, 0) + 1
    told = ", ".join(f"{n} {_OUTCOME_WORDS.get(k, k)}" for k, n in sorted(counts.items())) or "no tests"
    name = f" {battery.server_name}" if battery.server_name else ""
    line = (
        f"{battery.where}{name}: {told} in {battery.elapsed:.2f} s over "
        f"{battery.connections} connection{'s' if battery.connections != 1 else ''}"
    )
    if battery.problem:
        line += f"; {battery.problem}"
    if battery.inbound is not None and battery.inbound.outcome != UNTESTED:
        outcome = battery.inbound.outcome
        line += f"; inbound RCPT TO:<{battery.inbound.rcpt}> {_INBOUND_WORDS.get(outcome, outcome)}"
    return line

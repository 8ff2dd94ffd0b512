"""Orchestration: DNS for every sender domain, then every server address probed once,
all in parallel and bounded by one deadline; the receiver model decides per sender.
"""

from __future__ import annotations

import time

from check_callout.address import Address, domain_address, is_ip
from check_callout.kit.parallel import Unfinished, run_parallel
from check_callout.net.routes import Route, literal_route
from check_callout.probe import Dialogue, run_dialogue
from check_callout.receiver import BLIND, UNFINISHED, UNREACHABLE, Decision, Outcome, decide

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.receivers import Prediction, Profile
    from check_callout.senders.result import SenderChecks
    from check_callout.settings import CalloutSettings


class SenderResult:
    """The callout for one envelope sender: route, dialogues and the receivers' answer."""

    def __init__(
        self, sender: Address, route: Route, decision: Decision, dialogues: list[Dialogue] | None = None
    ) -> None:
        self.sender = sender
        self.route = route
        self.decision = decision
        self.dialogues = dialogues if dialogues is not None else []
        self.random_decision: Decision | None = None
        self.random_address = ""
        self.postmaster_decision: Decision | None = None
        self.predictions: list[Prediction] = []  # one per receiver profile, the deciding one first
        self.sender_checks: SenderChecks | None = None  # with --client-ip (check_callout.senders)

    def __repr__(self) -> str:
        return f"SenderResult({self.sender!s}, {self.decision!r})"

    @property
    def deciding_time(self) -> float | None:
        """Wall time of the dialogue that decided (seconds), if one did."""
        attempt = self.decision.deciding
        if attempt is None:
            return None
        for dialogue in self.dialogues:
            if dialogue.address == attempt.address:
                return dialogue.total
        return None


def random_local_part() -> str:
    """A local part no real mailbox has, like Exim's ``callout_random_local_part``."""
    import secrets

    return f"callout-check-{int(time.time())}-{secrets.token_hex(4)}"


def run_callouts(
    addresses: Sequence[Address], options: CalloutSettings, deadline: float
) -> list[SenderResult]:
    """Run the callouts for the senders ``addresses``; every server address is asked once,
    on one connection, everything the chosen receiver profiles need."""
    from check_callout.receivers import needs, profiles
    from check_callout.receivers.postfix import double_bounce

    chosen = profiles(options.receivers)
    need_random, need_postmaster, need_sender = needs(chosen)
    postfix_sender = double_bounce(options.postfix_sender or options.helo) if need_sender else ""
    routes = _routes(addresses, options, deadline)
    extras: dict[str, dict[str, str]] = {}
    wanted: dict[str, list[str]] = {}  # server address -> recipients
    also: dict[str, list[tuple[str, str]]] = {}  # server address -> (MAIL FROM, recipient)
    names: dict[str, str] = {}  # server address -> the first host name it was found under
    for addr in addresses:
        route = routes[addr.domain]
        rcpts = [str(addr)]
        extra = extras.setdefault(addr.domain, {})
        if options.random or need_random:
            extra.setdefault("random", f"{random_local_part()}@{addr.domain}")
            rcpts.insert(0, extra["random"])
        if options.postmaster or need_postmaster:
            extra.setdefault("postmaster", str(domain_address(addr.domain)))
            rcpts.append(extra["postmaster"])
        others = [(postfix_sender, str(addr))] if postfix_sender else []
        for host in route.hosts:
            for ip in host.addresses:
                names.setdefault(ip, host.name)
                bucket = wanted.setdefault(ip, [])
                bucket.extend(r for r in rcpts if r not in bucket)
                pairs = also.setdefault(ip, [])
                pairs.extend(q for q in others if q not in pairs)
    settings = options.probe
    jobs = {
        ip: (lambda ip=ip, rcpts=rcpts: run_dialogue(names[ip], ip, rcpts, settings, deadline, also[ip]))
        for ip, rcpts in wanted.items()
    }
    started = time.monotonic()
    finished = run_parallel(jobs, deadline, workers=32)
    dialogues: dict[str, Dialogue] = {}
    for ip, result in finished.items():
        if isinstance(result, Dialogue):
            dialogues[ip] = result
        else:
            text = _missing(result, "had not answered when the check's time ran out", "probe")
            dialogue = Dialogue(names[ip], ip, options.port)
            dialogue.total = time.monotonic() - started  # how long it was waited for
            outcome = Outcome(UNFINISHED, "", 0, text)
            dialogue.outcomes = {rcpt: outcome for rcpt in wanted[ip]}
            dialogue.answers = {(options.mail_from, rcpt): outcome for rcpt in wanted[ip]}
            dialogue.answers.update((q, outcome) for q in also[ip])
            dialogues[ip] = dialogue
    _sight(dialogues)
    return [
        _result(
            addr, routes[addr.domain], dialogues, extras.get(addr.domain, {}), options, chosen, postfix_sender
        )
        for addr in addresses
    ]


def _sight(dialogues: dict[str, Dialogue]) -> None:
    """An address without a local route is blind (this host cannot see that address
    family at all) only when no address of its family was reached in this run; where
    another one was, the family works here and that address is just unreachable."""
    reached = {
        ":" in ip
        for ip, dialogue in dialogues.items()
        if any(o.kind not in (BLIND, UNFINISHED) for o in dialogue.answers.values())
    }
    for ip, dialogue in dialogues.items():
        if (":" in ip) in reached:
            for table in (dialogue.outcomes, dialogue.answers):
                for key, o in table.items():
                    if o.kind == BLIND:
                        table[key] = Outcome(UNREACHABLE, o.phase, o.code, o.text, o.time)


def _result(
    addr: Address,
    route: Route,
    dialogues: dict[str, Dialogue],
    extra: dict[str, str],
    options: CalloutSettings,
    chosen: Sequence[Profile],
    postfix_sender: str,
) -> SenderResult:
    from check_callout.receivers import predict
    from check_callout.receivers.evidence import Evidence

    used = [dialogues[ip] for host in route.hosts for ip in host.addresses if ip in dialogues]

    def decision_for(rcpt: str) -> Decision:
        outcomes = {d.address: d.outcomes[rcpt] for d in used if rcpt in d.outcomes}
        return decide(route, outcomes)

    result = SenderResult(addr, route, decision_for(str(addr)), used)
    if options.random:
        result.random_address = extra["random"]
        result.random_decision = decision_for(extra["random"])
    if options.postmaster:
        result.postmaster_decision = decision_for(extra["postmaster"])
    evidence = Evidence(
        str(addr),
        route,
        {d.address: d.answers for d in used},
        extra.get("random", ""),
        extra.get("postmaster", ""),
        postfix_sender,
        options.mail_from,
    )
    result.predictions = predict(chosen, evidence, result.decision)
    return result


def _routes(addresses: Sequence[Address], options: CalloutSettings, deadline: float) -> dict[str, Route]:
    from check_callout.net.routes import single_label_route

    every = list(dict.fromkeys(a.domain for a in addresses))
    single = {d: single_label_route(d) for d in every if "." not in d}
    domains = [d for d in every if d not in single]
    if not domains:
        return single
    return {**_dns_routes(domains, options, deadline), **single}


def _dns_routes(domains: list[str], options: CalloutSettings, deadline: float) -> dict[str, Route]:
    if options.host and is_ip(options.host):
        route = literal_route(options.host)
        return {d: route for d in domains}
    if options.host and not options.nameserver:
        from check_callout.net.routes import system_host_route

        route = system_host_route(options.host, options.families, deadline)
        return {d: route for d in domains}
    # DNS gives up a little before the run's deadline, so that a resolver that never
    # answers is reported as such (which one, how long) rather than as the run's timeout
    dns_deadline = deadline - min(0.5, 0.2 * max(0.0, deadline - time.monotonic()))
    from check_callout.net.dns import Resolver  # not needed when -H names an address

    resolver = Resolver(
        options.nameserver,
        options.dns_port,
        options.families,
        timeout=max(0.1, min(10.0, deadline - time.monotonic())),
    )
    if options.host:
        route = resolver.host_route(options.host, dns_deadline)
        return {d: route for d in domains}
    jobs = {d: (lambda d=d: resolver.route(d, dns_deadline, options.max_hosts)) for d in domains}
    results = run_parallel(jobs, deadline, workers=8)
    routes: dict[str, Route] = {}
    for domain, result in results.items():
        if isinstance(result, Route):
            if resolver.config_note and not result.detail:
                result.detail = f"resolver: {resolver.config_note}"  # said even when DNS answers
            routes[domain] = result
        else:
            reason = _missing(result, "no DNS answer before the check's time ran out", "DNS lookup")
            routes[domain] = Route(domain, "dns_error", detail=f"cannot tell: {reason}")
    return routes


def _missing(result: BaseException, late: str, job: str) -> str:
    """Why a parallel job gave no result: it was late, or it failed unexpectedly."""
    if isinstance(result, Unfinished):
        return late
    return f"{job} failed: {type(result).__name__}: {result}"

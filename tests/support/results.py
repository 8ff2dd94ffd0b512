"""Callout results built from the receiver model's own types, for tests of judging and
wording without a network."""

from __future__ import annotations

from check_callout.address import parse_address
from check_callout.engine import SenderResult
from check_callout.net.routes import IMPLICIT, MX, MXHost, Route
from check_callout.probe import Dialogue
from check_callout.receiver import ACCEPT, REJECT, TEMPFAIL, UNFINISHED, UNREACHABLE, Outcome, decide
from check_callout.receivers import DEFAULT_RECEIVERS, predict, profiles
from check_callout.receivers.evidence import Evidence

SENDER = parse_address("www-data@d.test")
OK250 = Outcome(ACCEPT, "rcpt", 250, "2.1.5 Ok")
NO550 = Outcome(REJECT, "rcpt", 550, "5.1.1 unknown")
GREY451 = Outcome(TEMPFAIL, "rcpt", 451, "4.7.1 greylisted")
REFUSED = Outcome(UNREACHABLE, "connect", 0, "refused port 25")
POSTFIX_SENDER = "double-bounce@mon.test"
LATE = Outcome(UNFINISHED, "banner", 0, "had not answered when the check's time ran out")


def result(
    outcomes: dict[str, Outcome], *hosts: tuple[int, str, list[str]], status: str = MX, sender=SENDER
) -> SenderResult:
    route = Route(sender.domain, status, [MXHost(n, p, a, implicit=status == IMPLICIT) for p, n, a in hosts])
    dialogues = []
    for host in route.hosts:
        for address in host.addresses:
            dialogue = Dialogue(host.name, address, 25)
            dialogue.outcomes = {str(sender): outcomes[address]}
            # the Postfix profile's probe sender gets the same answer as the null sender
            dialogue.answers = {
                ("", str(sender)): outcomes[address],
                (POSTFIX_SENDER, str(sender)): outcomes[address],
            }
            dialogue.total = 0.25
            dialogues.append(dialogue)
    r = SenderResult(sender, route, decide(route, outcomes), dialogues)
    evidence = Evidence(
        str(sender), route, {d.address: d.answers for d in dialogues}, postfix_sender=POSTFIX_SENDER
    )
    r.predictions = predict(profiles(DEFAULT_RECEIVERS), evidence, r.decision)
    return r

"""Unit tests of the local audit's judging: the envelope origin's verdict and fix, and
an unread queue. No network: results are built from the receiver model's types."""

from __future__ import annotations

import nagiosplugin
import pytest

from check_callout.address import domain_address
from check_callout.kit.states import CRITICAL, OK, UNKNOWN
from check_nullmailer.local import OriginReport, QueueUnread, suggested_domain
from check_nullmailer.local_judge import QueueUnreadContext, judge_origin
from check_nullmailer.mta.base import MTAInfo
from tests.support.results import OK250, REFUSED, result


def origin(
    domain: str, outcomes: dict, *hosts, status: str = "mx", alt=None, mta: str = "postfix"
) -> OriginReport:
    sender = domain_address(domain)
    info = MTAInfo(mta, origin=domain, origin_text=f"Postfix myorigin = {domain}")
    return OriginReport(
        info, domain, info.origin_text, result(outcomes, *hosts, status=status, sender=sender), alt
    )


def test_an_origin_whose_mx_accepts_passes():
    report = origin("d.test", {"192.0.2.1": OK250}, (10, "mx.d.test", ["192.0.2.1"]))
    state, text = judge_origin(report)
    assert state == OK and text.startswith("Postfix myorigin = d.test: postmaster@d.test passes callouts")


def seed(mta: str = "postfix") -> OriginReport:
    """The seed: web1's own name as origin, no MX, port 25 refused; its parent accepts."""
    alt = result(
        {"192.0.2.1": OK250}, (10, "mx.example.test", ["192.0.2.1"]), sender=domain_address("example.test")
    )
    return origin(
        "web1.example.test",
        {"192.0.2.80": REFUSED},
        (0, "web1.example.test", ["192.0.2.80"]),
        status="implicit",
        alt=alt,
        mta=mta,
    )


def test_the_seed_names_exim_s_answer_and_both_fixes():
    state, text = judge_origin(seed())
    assert state == CRITICAL
    assert "no MX, and it refused port 25: Exim defers (451)" in text
    assert text.endswith("set myorigin = $mydomain (example.test, MX accepts) or open port 25")


@pytest.mark.parametrize(
    "mta, fix",
    [
        ("exim", "set qualify_domain = example.test (MX accepts)"),
        ("nullmailer", "set allmailfrom to an address @example.test (MX accepts)"),
        ("unknown-mta", "use an envelope domain such as example.test (MX accepts)"),
    ],
)
def test_each_mta_names_its_own_fix(mta, fix):
    assert fix in judge_origin(seed(mta))[1]


def test_an_origin_the_dns_cannot_answer_for_is_unknown():
    from check_callout.engine import SenderResult
    from check_callout.net.routes import DNS_ERROR, Route
    from check_callout.receiver import decide

    route = Route("d.test", DNS_ERROR, detail="SERVFAIL")
    report = OriginReport(
        MTAInfo("postfix"),
        "d.test",
        "--origin d.test",
        SenderResult(domain_address("d.test"), route, decide(route, {})),
    )
    assert judge_origin(report)[0] == UNKNOWN


def test_suggested_domain_is_the_parent_unless_it_is_a_bare_tld():
    assert suggested_domain("web1.example.test") == "example.test"
    assert suggested_domain("example.test") == ""


@pytest.mark.parametrize(
    "reason, state, words",
    [
        ("", nagiosplugin.Ok, "queue: not read (no MTA found)"),
        (
            "postqueue: fatal: Queue report unavailable - mail system is down",
            nagiosplugin.Warn,
            "queue: the MTA is not running",
        ),
        # asked to read the queue and could not: never OK (issue 13, item 3)
        ("exim not found", nagiosplugin.Warn, "queue: could not read it"),
        ("postqueue -j did not answer in time", nagiosplugin.Warn, "queue: could not read it"),
        # closed to the monitoring user: UNKNOWN with the grant (the --sudo rule)
        ("postqueue -j: postqueue: fatal: Permission denied", nagiosplugin.Unknown, "queue: cannot read it"),
        ("the Exim queue under another root is not read", nagiosplugin.Ok, "queue: not read"),
    ],
)
def test_an_unread_queue(reason, state, words):
    metric = nagiosplugin.Metric("queue", QueueUnread(reason), context="queue_unread")
    judged = QueueUnreadContext().evaluate(metric, None)
    assert judged.state == state and str(judged.hint).startswith(words)

"""Unit tests of the judging and the long-output wording: a SenderResult built from the
receiver model's own types goes in, a state and words come out. No network."""

from __future__ import annotations

import pytest

from check_callout.address import domain_address
from check_callout.engine import SenderResult
from check_callout.judge import action_words, judge
from check_callout.kit.states import CRITICAL, OK, UNKNOWN, WARNING, worst
from check_callout.net.routes import DNS_ERROR, IMPLICIT, NULL_MX, Route
from check_callout.receiver import decide
from check_callout.report import describe_result
from check_callout.settings import Policy
from tests.support.results import GREY451, LATE, NO550, OK250, REFUSED, SENDER, result

TWO = ((10, "mx1.d.test", ["192.0.2.1"]), (20, "mx2.d.test", ["192.0.2.2"]))


def test_worst_ranks_critical_above_unknown():
    assert worst([OK, WARNING, UNKNOWN, CRITICAL]) == CRITICAL
    assert worst([OK, UNKNOWN, WARNING]) == UNKNOWN
    assert worst([]) == OK


@pytest.mark.parametrize(
    "outcomes, state, words",
    [
        ({"192.0.2.1": OK250, "192.0.2.2": OK250}, OK, "an Exim receiver would accept"),
        ({"192.0.2.1": REFUSED, "192.0.2.2": OK250}, WARNING, "more preferred mx1.d.test [192.0.2.1]"),
        ({"192.0.2.1": GREY451, "192.0.2.2": OK250}, WARNING, "defers RCPT (451"),
        ({"192.0.2.1": NO550, "192.0.2.2": OK250}, CRITICAL, "an Exim receiver would reject"),
        ({"192.0.2.1": REFUSED, "192.0.2.2": GREY451}, CRITICAL, "would defer (451 Could not complete"),
        (
            {"192.0.2.1": LATE, "192.0.2.2": REFUSED},
            UNKNOWN,
            "cannot tell, no answer in time from mx1.d.test",
        ),
    ],
)
def test_states_and_words(outcomes, state, words):
    judgement = judge(result(outcomes, *TWO), Policy())
    assert judgement.state == state
    assert words in judgement.summary
    assert judgement.summary.startswith("www-data@d.test: ")


def test_a_warning_leads_with_its_reason_and_still_names_the_action():
    judgement = judge(result({"192.0.2.1": REFUSED, "192.0.2.2": OK250}, *TWO), Policy())
    assert judgement.summary.index("more preferred") < judgement.summary.index(
        "an Exim receiver would accept"
    )
    assert judgement.notes == ["more preferred mx1.d.test [192.0.2.1] refused port 25"]


def test_policy_turns_degraded_hosts_into_ok():
    judgement = judge(result({"192.0.2.1": REFUSED, "192.0.2.2": OK250}, *TWO), Policy(degraded=OK))
    assert judgement.state == OK and judgement.notes  # still named, no longer a warning


def test_implicit_mx_is_judged_by_policy():
    r = result({"192.0.2.9": OK250}, (0, "d.test", ["192.0.2.9"]), status=IMPLICIT)
    assert judge(r, Policy()).state == WARNING
    assert judge(r, Policy(implicit_mx=OK)).state == OK
    assert judge(r, Policy(implicit_mx=CRITICAL)).state == CRITICAL
    assert "no MX, implicit MX" in judge(r, Policy()).summary


def test_private_addresses_warn_unless_the_host_was_chosen():
    r = result({"10.0.0.5": OK250}, (10, "mx.d.test", ["10.0.0.5"]))
    assert judge(r, Policy()).state == WARNING
    assert judge(r, Policy(explicit_host=True)).state == OK


def test_dns_that_cannot_answer_is_unknown():
    route = Route("d.test", DNS_ERROR, detail="SERVFAIL")
    r = SenderResult(SENDER, route, decide(route, {}))
    assert judge(r, Policy()).state == UNKNOWN
    assert action_words(r.decision) == "an Exim receiver would defer while the DNS fails"


def test_null_mx_is_a_rejection():
    route = Route("d.test", NULL_MX)
    r = SenderResult(SENDER, route, decide(route, {}))
    assert judge(r, Policy()).state == CRITICAL and "reject" in judge(r, Policy()).summary


def test_long_output_names_both_receivers_every_address_and_the_notes():
    r = result({"192.0.2.1": REFUSED, "192.0.2.2": OK250}, *TWO)
    judgement = judge(r, Policy())
    lines = describe_result(r, 0, judgement.notes)
    assert lines[0].startswith("www-data@d.test: exim: accept, postfix: accept - ")
    assert "  MX 10 mx1.d.test [192.0.2.1]: refused port 25 in 0.250 s" in lines
    assert "  MX 20 mx2.d.test [192.0.2.2]: accepts RCPT (250 2.1.5 Ok) in 0.250 s" in lines
    assert lines[-1] == "  note: more preferred mx1.d.test [192.0.2.1] refused port 25"


def test_long_output_verbosity_adds_times_and_transcript():
    r = result({"192.0.2.1": OK250}, (10, "mx1.d.test", ["192.0.2.1"]))
    r.dialogues[0].timings = {"connect": 0.001, "rcpt": 0.002}
    r.dialogues[0].transcript = ["S: 220 mx1.d.test ESMTP"]
    assert not any("times:" in line for line in describe_result(r, 0))
    assert "    times: connect 0.001 s, rcpt 0.002 s" in describe_result(r, 1)
    assert "    S: 220 mx1.d.test ESMTP" in describe_result(r, 2)


def test_postmaster_and_random_results_are_judged():
    r = result({"192.0.2.1": OK250}, (10, "mx1.d.test", ["192.0.2.1"]))
    route = r.route
    r.random_address = "callout-check-1@d.test"
    r.random_decision = decide(route, {"192.0.2.1": OK250})
    r.postmaster_decision = decide(route, {"192.0.2.1": NO550})
    judgement = judge(r, Policy())
    assert judgement.state == WARNING
    assert any("accepts any local part" in note for note in judgement.notes)
    assert any(f"postmaster@{domain_address('d.test').domain} not accepted" in n for n in judgement.notes)

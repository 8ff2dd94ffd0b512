"""The sender checks and the strict receivers' answers, against the in-process DNS
responder on loopback (tests/support/sender_zone.py): SPF through pyspf with the
plugin's resolver settings, the HELO name, reverse DNS, the sender domain; bad records
(syntax errors, two records, too many lookups, void lookups, loops, macros, split
strings), PTR CNAMEs and loops, SERVFAIL and timeouts."""

from __future__ import annotations

import threading
import time

import pytest

from check_callout.receivers import PROFILES, STRICT_PROFILES
from check_callout.receivers.profile import ACCEPT, DEFER, REJECT, Prediction
from check_callout.senders import fix_for, run_sender_checks, strict_predictions
from tests.support.sender_zone import (
    CLIENT,
    CLIENT6,
    NO_PTR,
    PTR_CNAME,
    PTR_ELSEWHERE,
    PTR_LOOP,
    PTR_NAME_LOOP,
    PTR_SERVFAIL,
    ZONE,
)
from tests.support.servers import DNSTestServer

STRICT = ["exim:strict", "postfix:strict"]
HELO = "web1.good.test"


@pytest.fixture(scope="module")
def dns():
    with DNSTestServer(ZONE) as server:
        yield server


def checks_for(dns, sender, helo=HELO, clients=(CLIENT,), seconds=5.0):
    return run_sender_checks(
        list(clients),
        helo,
        sender,
        nameserver="127.0.0.1",
        dns_port=dns.port,
        deadline=time.monotonic() + seconds,
    )


def accepting_callout() -> list[Prediction]:
    """What the callout profiles answer when the sender verifies."""
    return [
        Prediction(STRICT_PROFILES["exim:strict"], ACCEPT, 250, "Accepted", "mx.good.test accepts RCPT"),
        Prediction(STRICT_PROFILES["postfix:strict"], ACCEPT, 250, "2.1.5 Ok", "mx.good.test accepts RCPT"),
    ]


def answers(dns, sender, helo=HELO, clients=(CLIENT,)):
    checks = checks_for(dns, sender, helo, clients)
    exim, postfix = strict_predictions(checks, accepting_callout(), STRICT)
    return checks, exim, postfix


def outcome(checks, key, client=CLIENT):
    return checks.per_client[client][key].outcome


# --- SPF --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "result", "exim", "postfix"),
    [
        ("pass.test", "pass", (ACCEPT, 250), (ACCEPT, 250)),
        ("good.test", "fail", (REJECT, 550), (REJECT, 550)),
        ("soft.test", "softfail", (ACCEPT, 250), (ACCEPT, 250)),
        ("neutral.test", "neutral", (ACCEPT, 250), (ACCEPT, 250)),
        ("none.test", "none", (ACCEPT, 250), (ACCEPT, 250)),
        ("syntax.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
        ("two.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
        ("many.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
        ("loop.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
        ("redir.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
        ("macro.test", "pass", (ACCEPT, 250), (ACCEPT, 250)),
        ("split.test", "pass", (ACCEPT, 250), (ACCEPT, 250)),
        # libspf2 has no void-lookup limit: Exim judges on to the ip4 that passes
        ("void.test", "permerror", (ACCEPT, 250), (ACCEPT, 250)),
    ],
)
def test_spf_of_the_mail_from_domain(dns, domain, result, exim, postfix):
    checks, e, p = answers(dns, f"www-data@{domain}")
    assert outcome(checks, "spf_mfrom") == result, checks.lines()
    assert (e.action, e.code) == exim, e
    assert (p.action, p.code) == postfix, p


def test_spf_fail_quotes_the_record_and_the_fix(dns):
    checks, exim, postfix = answers(dns, "www-data@good.test")
    assert 'fail - "v=spf1 mx -all"' in checks.per_client[CLIENT]["spf_mfrom"].saw
    assert postfix.text.startswith("5.7.23 ") and "SPF fail - not authorized" in postfix.text
    assert exim.text.startswith("[SPF] 192.0.2.30 is not allowed to send mail from good.test")
    assert fix_for("good.test", [CLIENT], HELO, checks=checks) == [
        'add ip4:192.0.2.30 to good.test\'s SPF record "v=spf1 mx -all"'
    ]


def test_fix_for_runs_the_checks_itself(dns):
    fixes = fix_for(
        "good.test", [CLIENT], HELO, nameserver="127.0.0.1", dns_port=dns.port, deadline=time.monotonic() + 5
    )
    assert fixes == ['add ip4:192.0.2.30 to good.test\'s SPF record "v=spf1 mx -all"']
    assert fix_for("pass.test", [CLIENT], HELO, nameserver="127.0.0.1", dns_port=dns.port) == []


def test_bad_records_say_what_is_wrong(dns):
    said = {
        "syntax.test": "Invalid IP4 address",
        "two.test": "Two or more type TXT spf records found",
        "many.test": "Too many DNS lookups",
        "void.test": "Void lookup limit of 2 exceeded",
        "loop.test": "include",
        "redir.test": "redirect",
    }
    for domain, words in said.items():
        checks = checks_for(dns, f"a@{domain}")
        saw = checks.per_client[CLIENT]["spf_mfrom"].saw
        assert words.lower() in saw.lower(), (domain, saw)
    assert "v=spf1 ip4:192.0.2.30 -all" in checks_for(dns, "a@two.test").per_client[CLIENT]["spf_mfrom"].saw


def test_split_txt_strings_are_one_record(dns):
    checks = checks_for(dns, "a@split.test")
    assert (
        '"v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip4:192.0.2.30 -all"'
        in checks.per_client[CLIENT]["spf_mfrom"].saw
    )


def test_spf_temperror_exim_defers_postfix_accepts_and_neither_is_ok(dns):
    checks, exim, postfix = answers(dns, "a@tempfail.test")
    assert outcome(checks, "spf_mfrom") == "temperror"
    assert (exim.action, exim.code) == (None, 451)  # cannot tell: 451 while it lasts
    assert (postfix.action, postfix.code) == (ACCEPT, 250)  # TempError_Defer = False
    assert postfix.blind  # but not seen whole: never an unqualified OK


def test_a_dns_timeout_is_cannot_tell_within_the_deadline(dns):
    started = time.monotonic()
    checks, exim, postfix = answers(dns, "a@slow.test")
    assert time.monotonic() - started < 6.5
    assert outcome(checks, "spf_mfrom") == "unknown"
    assert outcome(checks, "sender_domain") == "unknown"
    assert exim.action is None and postfix.action is None


def test_helo_spf_postfix_checks_it_for_every_sender_exim_only_for_the_null_sender(dns):
    checks, exim, postfix = answers(dns, "a@pass.test", helo="sfhelo.test")
    assert outcome(checks, "spf_helo") == "fail"
    assert (postfix.action, postfix.code) == (REJECT, 550) and "s=helo;id=sfhelo.test" in postfix.text
    assert exim.action != REJECT or exim.failing.key != "spf_exim"
    null = checks_for(dns, "<>", helo="sfhelo.test")
    e, p = strict_predictions(null, None, STRICT)
    assert (e.action, e.code) == (REJECT, 550) and e.failing.key == "spf_exim"
    assert (p.action, p.code) == (REJECT, 550)
    assert outcome(null, "spf_mfrom") == "n/a"


def test_null_sender_passing_everything_is_accepted_without_callout(dns):
    e, p = strict_predictions(checks_for(dns, ""), None, STRICT)
    assert (e.action, p.action) == (ACCEPT, ACCEPT)


# --- HELO -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("helo", "exim", "postfix"),
    [
        ("web1", (REJECT, 550), (REJECT, 504)),
        ("localhost", (REJECT, 550), (REJECT, 504)),
        ("noaddr.good.test", (REJECT, 550), (DEFER, 450)),
        ("other.good.test", (REJECT, 550), (ACCEPT, 250)),  # an A record is enough for Postfix
        ("web_1.good.test", (REJECT, 501), (ACCEPT, 250)),  # Exim refuses the underscore at EHLO
        ("[192.0.2.30]", (ACCEPT, 250), (ACCEPT, 250)),
        (HELO, (ACCEPT, 250), (ACCEPT, 250)),
    ],
)
def test_helo_names(dns, helo, exim, postfix):
    _checks, e, p = answers(dns, "a@pass.test", helo=helo)
    assert (e.action, e.code) == exim, e
    assert (p.action, p.code) == postfix, p


def test_helo_words(dns):
    _c, _e, p = answers(dns, "a@pass.test", helo="web1")
    assert p.text == "5.5.2 <web1>: Helo command rejected: need fully-qualified hostname"
    _c, _e, p = answers(dns, "a@pass.test", helo="noaddr.good.test")
    assert p.text == "4.7.1 <noaddr.good.test>: Helo command rejected: Host not found"


# --- reverse DNS ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "ptr", "confirmed", "exim", "postfix"),
    [
        (CLIENT, "found", "confirmed", (ACCEPT, 250), (ACCEPT, 250)),
        (NO_PTR, "none", "none", (REJECT, 550), (DEFER, 450)),
        (PTR_ELSEWHERE, "found", "other", (REJECT, 550), (ACCEPT, 250)),
        (PTR_CNAME, "found", "confirmed", (ACCEPT, 250), (ACCEPT, 250)),
        (PTR_LOOP, "unknown", "unknown", (None, 451), (None, 450)),
        (PTR_SERVFAIL, "unknown", "unknown", (None, 451), (None, 450)),
        # Exim follows the PTR name's CNAMEs itself and defers on the loop; Postfix has a PTR
        (PTR_NAME_LOOP, "found", "loop", (DEFER, 451), (ACCEPT, 250)),
    ],
)
def test_reverse_dns(dns, client, ptr, confirmed, exim, postfix):
    # the HELO name is an address literal of the client: only the reverse DNS decides
    checks, e, p = answers(
        dns, "a@macro.test" if client == CLIENT else "a@none.test", f"[{client}]", (client,)
    )
    assert outcome(checks, "ptr", client) == ptr, checks.lines()
    assert outcome(checks, "ptr_confirmed", client) == confirmed, checks.lines()
    assert (e.action, e.code) == exim, e
    assert (p.action, p.code) == postfix, p


def test_no_ptr_fix_names_the_record(dns):
    checks = checks_for(dns, "a@pass.test", clients=(NO_PTR,))
    fixes = fix_for("pass.test", [NO_PTR], HELO, checks=checks)
    assert (
        "ask the owner of 192.0.2.31 (its provider) for the record 31.2.0.192.in-addr.arpa "
        "PTR web1.good.test, a name whose A record is 192.0.2.31"
    ) in fixes
    assert (
        "smtp_helo_name = a name whose A record is 192.0.2.31 (the HELO name web1.good.test fails)" in fixes
    )
    assert (
        'add ip4:192.0.2.31 to pass.test\'s SPF record "v=spf1 ip4:192.0.2.30 ip6:2001:db8::30 -all"' in fixes
    )


def test_the_first_failing_check_decides(dns):
    # no PTR and an SPF fail: both receivers answer for the reverse DNS, never SPF
    checks, exim, postfix = answers(dns, "www-data@good.test", helo=f"[{NO_PTR}]", clients=(NO_PTR,))
    assert exim.failing.key == "ptr_confirmed" and exim.code == 550
    assert postfix.failing.key == "ptr" and postfix.code == 450
    assert postfix.text == "4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.31]"


# --- sender domain ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "exim", "postfix"),
    [
        ("www-data@web1", (ACCEPT, 250), (REJECT, 504)),
        ("a@nxdomain.test", (ACCEPT, 250), (DEFER, 450)),
        ("a@nullmx.test", (ACCEPT, 250), (REJECT, 550)),
    ],
)
def test_sender_domain(dns, sender, exim, postfix):
    # (Exim refuses these at its callout: the callout prediction, given as accepting here)
    _checks, e, p = answers(dns, sender)
    assert (e.action, e.code) == exim, e
    assert (p.action, p.code) == postfix, p


# --- the combination with the callout and dual stack --------------------------------


def test_the_callout_answers_when_every_check_passes(dns):
    checks = checks_for(dns, "a@pass.test")
    deferring = [
        Prediction(PROFILES["exim"], DEFER, 451, "Could not complete sender verify callout"),
        Prediction(
            STRICT_PROFILES["exim:strict"], DEFER, 451, "Could not complete sender verify callout", "refused"
        ),
        Prediction(STRICT_PROFILES["postfix:strict"], DEFER, 450, "4.1.7 <a@pass.test>: unverified address"),
    ]
    found = strict_predictions(checks, deferring, ["exim:strict", "exim", "postfix:strict"])
    assert [(p.profile.name, p.action, p.code) for p in found] == [
        ("exim:strict", DEFER, 451),
        ("exim", DEFER, 451),
        ("postfix:strict", DEFER, 450),
    ]
    assert found[1] is deferring[0]  # other profiles pass through unchanged


def test_dual_stack_the_worse_address_decides(dns):
    checks, exim, postfix = answers(dns, "a@pass.test", clients=(CLIENT6, NO_PTR))
    assert outcome(checks, "ptr", CLIENT6) == "found"
    assert exim.client == NO_PTR and exim.code == 550


def test_concurrent_checks_with_different_resolvers_do_not_mix(dns):
    """pyspf's DNS goes through each thread's own settings: one thread asks a resolver
    that does not answer, the other the test DNS, at the same time."""
    from tests.support.servers import closed_port

    results: dict[str, object] = {}

    def run(name: str, port: int) -> None:
        results[name] = run_sender_checks(
            [CLIENT],
            HELO,
            "a@good.test",
            nameserver="127.0.0.1",
            dns_port=port,
            deadline=time.monotonic() + 3,
        )

    threads = [
        threading.Thread(target=run, args=("good", dns.port)),
        threading.Thread(target=run, args=("dead", closed_port())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcome(results["good"], "spf_mfrom") == "fail"
    assert outcome(results["dead"], "spf_mfrom") == "unknown"


def test_long_output_has_one_line_per_check(dns):
    lines = checks_for(dns, "www-data@good.test").lines()
    assert any(line.startswith("PTR: found - PTR 30.2.0.192.in-addr.arpa: web1.good.test") for line in lines)
    assert "HELO name found: found - AAAA web1.good.test: 2001:db8::30; A web1.good.test: 192.0.2.30" in lines
    assert len(lines) == 11


def test_the_base_profiles_callout_stands_for_the_strict_one(dns):
    """A caller holding the exim/postfix callout predictions gets them under the strict
    names: the strict profile's callout is its base profile's question."""
    checks = checks_for(dns, "a@pass.test")
    base = [
        Prediction(PROFILES["exim"], DEFER, 451, "Could not complete sender verify callout"),
        Prediction(PROFILES["postfix"], DEFER, 450, "4.1.7 <a@pass.test>: unverified address"),
    ]
    found = strict_predictions(checks, base, STRICT)
    assert [(p.profile.name, p.action, p.code) for p in found] == [
        ("exim:strict", DEFER, 451),
        ("postfix:strict", DEFER, 450),
    ]

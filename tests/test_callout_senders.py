"""check_callout --client-ip/--helo-name: the sender checks beside the callout, as a
real process against the in-process DNS and an SMTP server on loopback."""

from __future__ import annotations

import pytest

from tests.support.hostile import assert_well_formed, callout
from tests.support.sender_zone import ZONE
from tests.support.servers import DNSTestServer, SMTPTestServer, free_port

CLIENT = ["--client-ip", "192.0.2.30", "--helo-name", "web1.good.test"]


@pytest.fixture(scope="module")
def lab():
    zone = dict(ZONE)
    zone["mx.good.test"] = [("A", "127.0.0.1")]  # every sender domain's MX: the SMTP server below
    port = free_port()
    with DNSTestServer(zone) as dns, SMTPTestServer("127.0.0.1", port):
        yield [*dns.args, "-p", str(port), "--allow-private", "-t", "8"]


def test_without_client_ip_nothing_changes_and_the_long_output_says_so(lab):
    run = callout("-s", "www-data@good.test", *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 0 and "an Exim receiver would accept" in run.first_line, run
    assert "sender checks not run (no --client-ip)" in run.output
    assert "sender_checks" not in run.perfdata


def test_our_own_fix_causing_the_next_refusal_is_seen(lab):
    """The issue's first finding: good.test's callout passes, its SPF fails for the host."""
    run = callout("-s", "www-data@good.test", *CLIENT, *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 2, run
    assert run.first_line.startswith(
        'CALLOUT CRITICAL - www-data@good.test: SPF (Exim\'s view): fail for 192.0.2.30 ("v=spf1 mx -all")'
    )
    assert (
        "a strict Exim receiver would reject "
        "(550 [SPF] 192.0.2.30 is not allowed to send mail from good.test)" in run.first_line
    )
    assert (
        "  postfix:strict would answer 550 5.7.23 <recipient@receiver>: Recipient address rejected"
        in run.output
    )
    assert '  fix: add ip4:192.0.2.30 to good.test\'s SPF record "v=spf1 mx -all"' in run.output
    assert "    PTR: found - PTR 30.2.0.192.in-addr.arpa: web1.good.test" in run.output
    assert float(run.perfdata["sender_checks"].rstrip("s;0")) > 0


def test_everything_passing_is_ok(lab):
    run = callout("-s", "a@pass.test", *CLIENT, *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 0, run
    assert run.first_line.split(" | ")[0].endswith("; a strict Exim receiver would accept"), run
    assert "  fix: " not in run.output


def test_receivers_disagree_on_a_ptr_that_is_not_forward_confirmed(lab):
    run = callout("-s", "a@none.test", "--client-ip", "192.0.2.32", "--helo-name", "[192.0.2.32]", *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 2, run
    assert "PTR forward-confirmed: other" in run.first_line
    assert "(receivers disagree: postfix:strict accept)" in run.first_line


def test_postfix_deciding_a_missing_ptr_is_a_defer(lab):
    run = callout(
        "-s",
        "a@pass.test",
        "--client-ip",
        "192.0.2.31",
        "--helo-name",
        "web1.good.test",
        "--receiver",
        "postfix:strict",
        *lab,
    )
    assert_well_formed(run, timeout=8)
    assert run.code == 2, run
    assert (
        "a strict Postfix receiver would defer (450 4.7.1 cannot find your reverse hostname)"
        in run.first_line
    )


def test_softfail_is_a_warning_that_says_why(lab):
    run = callout("-s", "a@soft.test", *CLIENT, *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 1, run
    assert "SPF softfail" in run.first_line and "spam filters" in run.output


def test_temperror_is_cannot_tell_naming_exims_451(lab):
    run = callout("-s", "a@tempfail.test", *CLIENT, *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 3, run
    assert (
        "cannot tell: a strict Exim receiver answers 451 while that lookup fails "
        "(receivers disagree: postfix:strict accept)" in run.first_line
    )


def test_a_dns_timeout_ends_within_t(lab):
    run = callout("-s", "a@slow.test", *CLIENT, *lab[:-1], "3")
    assert_well_formed(run, timeout=3)
    assert run.code == 3, run


def test_the_null_sender_has_no_callout_its_identity_is_the_helo_name(lab):
    run = callout("-s", "<>", "--client-ip", "192.0.2.30", "--helo-name", "sfhelo.test", *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 2, run
    assert run.first_line.startswith("CALLOUT CRITICAL - <>: SPF (Exim's view): fail for 192.0.2.30")
    assert "a null sender is not verified by callout" in run.output
    good = callout("-s", "<>", *CLIENT, *lab)
    assert good.code == 0, good


def test_dual_stack_each_address_is_judged(lab):
    run = callout(
        "-s",
        "a@pass.test",
        "--client-ip",
        "2001:db8:0::30",
        "--client-ip",
        "192.0.2.30",
        "--helo-name",
        "web1.good.test",
        *lab,
    )
    assert_well_formed(run, timeout=8)
    assert run.code == 0, run
    assert "[2001:db8::30] PTR: found" in run.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--helo-name", "web1.good.test"], "--helo-name needs --client-ip"),
        (["--client-ip", "192.0.2.30"], "--client-ip needs --helo-name"),
        (["--client-ip", "web1.good.test", "--helo-name", "x.test"], "is not an IP address"),
        (["--client-ip", "fe80::1%eth0", "--helo-name", "x.test"], "is not an IP address"),
        (["--client-ip", "192.0.2.30", "--helo-name", "a b.test"], "--helo-name"),
        (["--receiver", "exim:strict"], "--receiver exim:strict needs --client-ip"),
    ],
)
def test_usage_errors(args, words):
    run = callout("-s", "a@pass.test", *args)
    assert_well_formed(run, timeout=5)
    assert run.code == 3 and words in run.first_line, run


def test_the_null_sender_needs_client_ip():
    run = callout("-s", "<>")
    assert run.code == 3 and "needs --client-ip" in run.first_line, run


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("two.test", "Two or more type TXT spf records found"),
        ("syntax.test", "Invalid IP4 address"),
        ("many.test", "Too many DNS lookups"),
        ("void.test", "Void lookup limit of 2 exceeded"),
    ],
)
def test_a_broken_spf_record_is_accepted_but_a_warning_that_says_what_is_wrong(lab, domain, words):
    run = callout("-s", f"a@{domain}", *CLIENT, *lab)
    assert_well_formed(run, timeout=8)
    assert run.code == 1, run
    assert "SPF permerror" in run.first_line, run
    assert f"  fix: repair {domain}'s SPF" in run.output and words in run.output, run


def test_several_senders_ask_the_clients_ptr_and_the_helo_name_once():
    """One run's senders share their DNS: the questions about the client and the HELO
    name (the same for every sender) reach the resolver once, not once per sender."""
    zone = dict(ZONE)
    zone["mx.good.test"] = [("A", "127.0.0.1")]
    port = free_port()
    with DNSTestServer(zone) as dns, SMTPTestServer("127.0.0.1", port):
        run = callout(
            *("-s", "a@pass.test", "-s", "www-data@good.test", "-s", "<>"),
            *CLIENT,
            *dns.args,
            *("-p", str(port), "--allow-private", "-t", "8"),
        )
        asked = list(dns.resolver.queries)
    assert_well_formed(run, timeout=8)
    assert "    PTR: found - PTR 30.2.0.192.in-addr.arpa: web1.good.test" in run.output, run
    for question in (("30.2.0.192.in-addr.arpa", "PTR"), ("web1.good.test", "A"), ("web1.good.test", "TXT")):
        assert asked.count(question) == 1, (question, asked)

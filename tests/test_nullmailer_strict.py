"""check_nullmailer --local and strict receivers: SPF, the HELO name, reverse DNS and the
sender domain of the null mailer's own mail, as exim:strict (deciding) and
postfix:strict judge them; the suggested fix checked for them too.

Real parts: a dma or nullmailer configuration tree (``--root``), the in-process DNS
server and an aiosmtpd MX on loopback; the egress address is stated with
``--client-ip`` (a documentation address: nothing is sent to it)."""

from __future__ import annotations

import pytest

from check_callout.senders.result import TITLES
from check_nullmailer import plugin
from check_nullmailer.mta.egress import DIRECT, SMARTHOST, Egress
from check_nullmailer.strict import plan
from tests.support.output import first_line
from tests.support.relay_servers import smtp_server, write
from tests.support.servers import SERVFAIL, DNSTestServer

CLIENT = "192.0.2.21"
PTR = "21.2.0.192.in-addr.arpa"


def zone(spf: str | None = "v=spf1 mx -all", ptr: bool = True, **more: object) -> dict[str, object]:
    records: dict[str, object] = {
        "good.test": [("MX", (10, "mx.good.test"))] + ([("TXT", spf)] if spf else []),
        "mx.good.test": [("A", "127.0.0.1")],
        # the null mailer's own name: its address, and an MX where nothing listens
        "web1.good.test": [("A", CLIENT), ("MX", (10, "dead.good.test"))],
        "dead.good.test": [("A", "127.0.0.2")],
        "relay.good.test": [("A", "192.0.2.25")],
        "broken.good.test": SERVFAIL,
    }
    if ptr:
        records[PTR] = [("PTR", "web1.good.test")]
    records.update(more)
    return records


def accept_all(phase: str, address: str) -> str:
    return ""


@pytest.fixture(scope="module")
def mx():
    with smtp_server(accept_all) as (port, _handler):
        yield port


def dma_tree(root, masquerade: str = "") -> None:
    """dma delivering straight to the recipients' MX, greeting as web1.good.test."""
    conf = "MAILNAME web1.good.test\n" + (f"MASQUERADE {masquerade}\n" if masquerade else "")
    write(root, "/etc/dma/dma.conf", conf)
    (root / "var/spool/dma").mkdir(parents=True)


def run(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        plugin.main(args)
    return exc.value.code, capsys.readouterr().out


def local(root, dns, mx: int, capsys, *extra: str) -> tuple[int, str]:
    args = ["--local", "--root", str(root), "--mta", "dma", *dns.args, "-p", str(mx), "-t", "10"]
    return run([*args, "--client-ip", CLIENT, *extra], capsys)


def test_spf_fail_is_critical_with_the_record_to_change(tmp_path, mx, capsys):
    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone()) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 2, out
    line = first_line(out)
    assert line.startswith(
        "NULLMAILER CRITICAL - SPF of the MAIL FROM domain fail (postmaster@good.test from 192.0.2.21 as "
        "web1.good.test): a strict Exim receiver would reject (550 [SPF] 192.0.2.21 is not allowed"
    ), out
    assert "[critical] SPF of the MAIL FROM domain fail" in out
    assert '  fix: add ip4:192.0.2.21 to good.test\'s SPF record "v=spf1 mx -all"' in out
    assert "  exim:strict: reject (550 [SPF] 192.0.2.21 is not allowed to send mail from good.test." in out
    assert "  postfix:strict: reject (550 5.7.23 <recipient@receiver>: Recipient address rejected:" in out
    assert f"  {TITLES['ptr_confirmed']}: confirmed - " in out


def test_everything_passes_ok(tmp_path, mx, capsys):
    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone("v=spf1 ip4:192.0.2.21 -all")) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 0, out
    assert first_line(out).startswith("NULLMAILER OK - dma MASQUERADE good.test: postmaster@good.test passes")
    assert "[ok] sender checks pass (postmaster@good.test from 192.0.2.21 as web1.good.test)" in out
    assert "  exim:strict: accept (250 Accepted) - " in out


def test_softfail_is_a_warning_and_says_why(tmp_path, mx, capsys):
    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone("v=spf1 ip4:192.0.2.99 ~all")) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 1, out
    assert "strict receivers accept it, but spam filters score a softfail" in first_line(out)
    assert 'fix: add ip4:192.0.2.21 to good.test\'s SPF record "v=spf1 ip4:192.0.2.99 ~all"' in out


def test_no_ptr_is_critical_and_names_the_record(tmp_path, mx, capsys):
    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone("v=spf1 ip4:192.0.2.21 -all", ptr=False)) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 2, out
    assert f"{TITLES['ptr_confirmed']} none" in first_line(out)
    assert "a strict Exim receiver would reject (550 no forward-confirmed reverse DNS for 192.0.2.21)" in out
    assert f"fix: ask the owner of 192.0.2.21 (its provider) for the record {PTR} PTR web1.good.test" in out


def test_spf_lookup_that_fails_is_cannot_tell(tmp_path, mx, capsys):
    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone("v=spf1 include:broken.good.test -all")) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 1, out
    assert "cannot tell" in first_line(out), out
    assert "NULLMAILER OK" not in out


def test_the_suggested_fix_is_checked_for_spf_too(tmp_path, mx, capsys):
    """web1.good.test defers (its MX refuses); good.test's MX accepts, but its SPF record
    does not list this host: the fix says what to add."""
    dma_tree(tmp_path)
    with DNSTestServer(zone()) as dns:
        code, out = local(tmp_path, dns, mx, capsys)
    assert code == 2, out
    assert (
        "set MASQUERADE @good.test in dma.conf (MX accepts; but a strict Exim receiver would reject it from "
        "here (SPF of the MAIL FROM domain fail): add ip4:192.0.2.21 to good.test's SPF record "
        '"v=spf1 mx -all")'
    ) in out
    assert "[ok] sender checks pass (postmaster@web1.good.test from 192.0.2.21 as web1.good.test)" in out


def test_smarthost_checks_the_envelope_domain_for_its_addresses(tmp_path, mx, capsys):
    write(tmp_path, "/etc/nullmailer/remotes", "relay.good.test smtp --port=587\n")
    write(tmp_path, "/etc/nullmailer/allmailfrom", "www@good.test\n")
    write(tmp_path, "/etc/nullmailer/me", "web1\n")
    (tmp_path / "var/spool/nullmailer/queue").mkdir(parents=True)
    args = ["--local", "--root", str(tmp_path), "--mta", "nullmailer", "-p", str(mx), "-t", "10"]
    with DNSTestServer(zone("v=spf1 mx -all")) as dns:
        code, out = run([*args, *dns.args], capsys)
    assert code == 2, out
    assert first_line(out).startswith(
        "NULLMAILER CRITICAL - SPF of the MAIL FROM domain fail (postmaster@good.test through the smarthost "
        "relay.good.test [192.0.2.25]): a strict Exim receiver would reject"
    ), out
    assert "fix: add ip4:192.0.2.25 to good.test's SPF record" in out
    assert "its HELO name and reverse DNS are its own (not judged here)" in out
    assert "HELO" not in "\n".join(line for line in out.splitlines() if line.startswith("  helo"))
    assert f"{TITLES['ptr']}:" not in out  # the smarthost's, not judged


@pytest.mark.parametrize(
    "egress,clients,blind",
    [
        (
            Egress("x", route=DIRECT, helo="web1.good.test", sources=["10.0.0.5"]),
            (),
            "10.0.0.5 is not a public",
        ),
        (Egress("x", route=DIRECT, helo="web1.good.test", sources=["10.0.0.5"]), ("192.0.2.21",), ""),
        (Egress("x", route=DIRECT, sources=["192.0.2.21"]), (), "the HELO name the MTA sends is not known"),
        (Egress("x", route=SMARTHOST, smarthost="relay.good.test"), (), "addresses are not known"),
        (Egress("x", notes=["closed"]), (), "how the mail leaves is not known (closed)"),
    ],
)
def test_what_cannot_be_judged_is_said(egress, clients, blind):
    found = plan(egress, clients)
    assert (blind in found.blind) if blind else not found.blind, found


def test_a_silent_reverse_lookup_is_cannot_tell_within_the_timeout(tmp_path, mx, capsys):
    """The PTR question is never answered: the sender checks give up before the run's
    end; the part is WARNING (cannot tell), never OK, and the run ends within -t."""
    import time

    from tests.support.servers import DROP

    dma_tree(tmp_path, masquerade="good.test")
    with DNSTestServer(zone("v=spf1 ip4:192.0.2.21 -all", **{PTR: DROP})) as dns:
        started = time.monotonic()
        code, out = run(
            ["--local", "--root", str(tmp_path), "--mta", "dma", *dns.args, "-p", str(mx), "-t", "4",
             "--client-ip", CLIENT],
            capsys,
        )  # fmt: skip
        took = time.monotonic() - started
    assert took < 4.5, took
    assert code == 1, out
    assert "cannot tell" in first_line(out), out

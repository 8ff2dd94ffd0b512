"""The relay battery against real SMTP servers (aiosmtpd on 127.0.0.1) playing open,
closed, auth-only, greylisting and Exim-like relays, with and without STARTTLS."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from check_callout.kit.states import CRITICAL, OK, WARNING
from check_callout.net.smtp_wire import Reply
from check_nullmailer import relay, relay_forms
from check_nullmailer.relay import run_battery
from check_nullmailer.relay_forms import TESTS, classify
from check_nullmailer.relay_verdict import judge_port
from tests.support.relay_servers import (
    auth_only,
    closed_port,
    closed_relay,
    exim_like_open,
    free_port,
    greylisting,
    make_tls_context,
    open_relay,
    postfix_default,
    smtp_server,
)


def battery(port: int, mode: str = "plain", **kwargs) -> relay_forms.Battery:
    kwargs.setdefault("deadline", time.monotonic() + 10)
    return run_battery("127.0.0.1", port, mode=mode, helo="monitor.test", **kwargs)


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory):
    return make_tls_context(str(tmp_path_factory.mktemp("tls")))


def test_sixteen_forms_rendered():
    rendered = [t.render("example.net", "mx.test", "[192.0.2.1]") for t in TESTS]
    assert len(rendered) == 16
    assert rendered[0] == ("", "relay-probe@example.net")
    assert rendered[3] == ("relay-check@[192.0.2.1]", "relay-probe@example.net")
    rcpts = [r for _, r in rendered]
    assert "relay-probe%example.net@[192.0.2.1]" in rcpts
    assert '"relay-probe@example.net"' in rcpts
    assert "relay-probe@example.net@mx.test" in rcpts
    assert "@mx.test:relay-probe@example.net" in rcpts
    assert "example.net!relay-probe@[192.0.2.1]" in rcpts


@pytest.mark.parametrize(
    "mail,rcpt,outcome",
    [
        (Reply(250, "ok", "mail"), Reply(250, "ok", "rcpt"), relay_forms.RELAYED),
        (Reply(250, "ok", "mail"), Reply(251, "will forward", "rcpt"), relay_forms.RELAYED),
        (Reply(530, "5.7.0 Authentication required", "mail"), None, relay_forms.AUTH),
        (Reply(250, "ok", "mail"), Reply(554, "5.7.1 Relay access denied", "rcpt"), relay_forms.REFUSED),
        (
            Reply(250, "ok", "mail"),
            Reply(454, "4.7.1 <x@y>: Relay access denied", "rcpt"),
            relay_forms.REFUSED,
        ),
        (Reply(250, "ok", "mail"), Reply(450, "4.2.0 Greylisted", "rcpt"), relay_forms.TEMPORARY),
        (Reply(501, "syntax", "mail"), None, relay_forms.REFUSED),
        (Reply(530, "5.7.0 Must issue a STARTTLS command first", "mail"), None, relay_forms.REFUSED),
        (
            Reply(250, "ok", "mail"),
            Reply(550, "5.7.1 Authentication required to relay", "rcpt"),
            relay_forms.AUTH,
        ),
        (None, None, relay_forms.UNTESTED),
    ],
)
def test_classify(mail, rcpt, outcome):
    assert classify(mail, rcpt) == outcome


def test_open_relay_is_critical_and_named():
    with smtp_server(open_relay) as (port, handler):
        result = battery(port)
    assert "DATA" not in handler.commands
    verdict = judge_port([result])
    assert verdict.state == CRITICAL
    assert verdict.summary.startswith(
        f"open relay on port {port}: test 1 MAIL FROM:<> RCPT TO:<relay-probe@example.net>"
    )
    assert sum(t.outcome == relay_forms.RELAYED for t in result.tests) >= 10


SERVER_NAMES = ("mx.test", "127.0.0.1", "[127.0.0.1]")  # the aiosmtpd server's own names


def own_name_only(phase: str, address: str) -> str:
    """Refuses plain foreign recipients, accepts anything addressed to its own name
    without checking the local part (like Exim with no recipient verification)."""
    if phase != "rcpt":
        return ""
    target = address.rpartition("@")[2].lower()
    if "@" in address and target in SERVER_NAMES and not address.startswith("@"):
        return ""
    return f"550 5.7.1 <{address}>: relay not permitted"


def test_relay_syntax_to_its_own_name_is_a_possible_relay_not_a_proven_one():
    with smtp_server(own_name_only) as (port, handler):
        result = battery(port)
    assert "DATA" not in handler.commands
    accepted = {t.number for t in result.tests if t.outcome == relay_forms.RELAYED}
    assert accepted and not accepted & relay_forms.DIRECT_TESTS
    verdict = judge_port([result], allow_inbound=True)
    assert verdict.state == WARNING
    assert verdict.summary.startswith(f"possible relay on port {port}: test ")
    assert any("plain foreign recipients were refused" in d for d in verdict.details)


def test_closed_relay_is_ok_and_fast():
    with smtp_server(closed_relay) as (port, handler):
        start = time.monotonic()
        result = battery(port)
        took = time.monotonic() - start
    assert took < 3
    assert all(t.outcome == relay_forms.REFUSED for t in result.tests)
    assert handler.commands.count("DATA") == 0
    # reconnects before Postfix's soft error limit (10 errors on one connection)
    assert result.connections >= 2
    verdict = judge_port([result])
    assert verdict.state == OK and "relay refused" in verdict.summary


def test_auth_only_is_ok_with_that_fact():
    with smtp_server(auth_only) as (port, _):
        verdict = judge_port([battery(port)])
    assert verdict.state == OK
    assert "authentication required (530 5.7.0 Authentication required)" in verdict.summary


def test_greylisting_is_inconclusive():
    with smtp_server(greylisting) as (port, _):
        verdict = judge_port([battery(port)])
    assert verdict.state == WARNING and "inconclusive" in verdict.summary and "450" in verdict.summary


def test_relay_denied_4xx_is_a_refusal_but_inbound_warns():
    """Stock Postfix: 454 Relay access denied (defer_unauth_destination), mail for itself accepted."""
    with smtp_server(postfix_default) as (port, _):
        result = battery(port, own_name="mx.test")
    assert all(t.outcome == relay_forms.REFUSED for t in result.tests)
    assert result.inbound.outcome == relay_forms.ACCEPTED and result.inbound.rcpt == "postmaster@mx.test"
    verdict = judge_port([result])
    assert verdict.state == WARNING and "accepts inbound mail" in verdict.summary
    assert judge_port([result], allow_inbound=True).state == OK


def test_exim_like_server_dropping_after_syntax_errors_is_still_tested():
    with smtp_server(exim_like_open, max_syntax_errors=3) as (port, _):
        result = battery(port)
    assert all(t.outcome != relay_forms.UNTESTED for t in result.tests)
    relayed = [t.number for t in result.tests if t.outcome == relay_forms.RELAYED]
    assert relayed[:3] == [1, 2, 3]
    # the [ip] sender is refused as a syntax error: the recipient forms are still asked,
    # with the plain foreign sender, and the server's syntax-error limit is never reached
    test4, test5 = result.tests[3], result.tests[4]
    assert test4.mail_from == "relay-check@example.net" and "retried as" in test4.note()
    assert test5.mail_from == "relay-check@example.net" and "replaced" in test5.note()
    assert test5.outcome == relay_forms.RELAYED
    assert result.connections <= 3
    assert judge_port([result]).state == CRITICAL


def test_server_that_drops_every_connection_is_bounded():
    def dropper(phase: str, address: str) -> str:
        return "421 4.3.2 Service shutting down"

    with smtp_server(dropper) as (port, _):
        start = time.monotonic()
        result = battery(port)
    assert time.monotonic() - start < 5
    assert result.connections <= relay.MAX_CONNECTIONS
    assert judge_port([result]).state in (OK, WARNING)


def test_starttls_battery(tls_context):
    with smtp_server(closed_relay, tls_context=tls_context) as (port, _):
        plain = battery(port)
        assert plain.starttls_offered
        tls = battery(port, mode="STARTTLS")
    assert tls.mode == "STARTTLS" and tls.connections >= 1
    assert all(t.outcome == relay_forms.REFUSED for t in tls.tests)
    verdict = judge_port([plain, tls])
    assert verdict.state == OK and "32 tests" in verdict.summary


def test_relay_only_after_starttls_is_found(tls_context):
    def relay_after_tls(phase: str, address: str) -> str:
        return ""

    with smtp_server(relay_after_tls, tls_context=tls_context) as (port, _):
        tls = battery(port, mode="STARTTLS")
    verdict = judge_port([tls])
    assert verdict.state == CRITICAL and "(STARTTLS)" in verdict.summary


def test_implicit_tls(tls_context):
    with smtp_server(auth_only, tls_context=tls_context, implicit_tls=True) as (port, _):
        result = battery(port, mode="TLS")
    assert result.listening and all(t.outcome == relay_forms.AUTH for t in result.tests), result.problem


def test_closed_port_is_ok():
    result = battery(closed_port())
    assert not result.listening
    verdict = judge_port([result])
    assert verdict.state == OK and verdict.summary.startswith("not listening on")
    assert judge_port([result], expect_closed=True).state == OK


def test_expect_closed_makes_an_open_port_critical():
    with smtp_server(closed_relay) as (port, _):
        verdict = judge_port([battery(port)], expect_closed=True)
    assert verdict.state == CRITICAL and "expected closed" in verdict.summary


def test_refusing_banner():
    def serve(sock: socket.socket) -> None:
        conn, _ = sock.accept()
        conn.sendall(b"554 5.3.2 no SMTP service here\r\n")
        conn.recv(100)
        conn.close()

    port = free_port()
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen(1)
    thread = threading.Thread(target=serve, args=(sock,), daemon=True)
    thread.start()
    try:
        result = battery(port)
    finally:
        thread.join(5)
        sock.close()
    assert "554" in result.problem
    assert judge_port([result]).state == WARNING


def test_silent_server_stops_at_the_deadline():
    port = free_port()
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen(1)
    try:
        start = time.monotonic()
        result = battery(port, deadline=time.monotonic() + 1.0, timeout=30)
        took = time.monotonic() - start
    finally:
        sock.close()
    assert took < 2
    assert result.problem and judge_port([result]).state == WARNING

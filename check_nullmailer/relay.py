"""The relay battery: does an SMTP server pass mail for foreign domains to strangers?

The tests are data (:data:`TESTS`): the sixteen address forms that relay checkers
have used for decades (null and foreign senders, the server's own name and its
``[ip]`` as sender domain; the ``%`` hack, quoted local parts, ``user@foreign@host``,
source routes and bang paths as recipients).  They run over
:class:`check_callout.net.smtp.SMTPSession` on as few connections as possible, ``RSET``
between tests and never ``DATA``, so nothing is ever delivered.

Real servers fight back, and the run copes:
- Postfix slows a client down after 10 errors on one connection (``smtpd_soft_error_limit``),
  so after :data:`ERRORS_PER_CONNECTION` refusals the battery reconnects;
- Exim drops the connection after 3 syntax errors (``smtp_max_synprot_errors``), and an
  IP-literal sender is one, so after two ``500``/``501`` replies it reconnects, and a
  dropped connection is reopened and the test retried once;
- everything stops at the deadline; tests not run are reported as untested.
"""

from __future__ import annotations

import time

from check_callout.net.smtp import SMTPSession
from check_callout.net.smtp_wire import ProbeError, Reply
from check_nullmailer.relay_forms import (
    ACCEPTED,
    DEFAULT_RELAY_TO,
    PROBE_SENDER,
    REFUSED,
    RELAYED,
    TESTS,
    Battery,
    RelayTest,
    TestResult,
    _literal,
    classify,
    server_name_from,
)

ERRORS_PER_CONNECTION = 8  # below Postfix's smtpd_soft_error_limit (10)
SYNTAX_ERRORS_PER_CONNECTION = 2  # below Exim's smtp_max_synprot_errors (3)
MAX_CONNECTIONS = 12  # per battery


def run_battery(
    address: str,
    port: int,
    *,
    mode: str,
    helo: str,
    deadline: float,
    relay_to: str = DEFAULT_RELAY_TO,
    own_name: str = "",
    timeout: float = 30.0,
    connect_timeout: float = 10.0,
    transcript: list[str] | None = None,
    tests: tuple[RelayTest, ...] = TESTS,
    inbound: bool = True,
) -> Battery:
    """Run the relay tests (and the inbound test) against ``address``:``port``.

    ``mode`` is ``plain`` (no STARTTLS), ``STARTTLS`` or ``TLS`` (implicit TLS);
    ``clear text`` is plain on a port that should have spoken TLS (465).
    """
    start = time.monotonic()
    battery = Battery(port, mode)

    def connect() -> SMTPSession:
        session = SMTPSession(
            address, port, helo=helo, deadline=deadline, timeout=timeout,
            connect_timeout=connect_timeout, starttls=mode == "STARTTLS",
            implicit_tls=mode == "TLS", transcript=transcript,
        )  # fmt: skip
        battery.connections += 1
        try:
            reply = session.open()
        except ProbeError:
            session.close()
            raise
        if not reply.positive:
            session.close()
            raise _Refusing(reply)
        if mode == "STARTTLS" and session.tls is None:
            session.close()
            raise _Refusing(Reply(0, session.tls_error or "STARTTLS not offered on reconnect", "starttls"))
        battery.starttls_offered = battery.starttls_offered or session.starttls_offered
        return session

    try:
        session = connect()
    except ProbeError as exc:
        battery.elapsed = time.monotonic() - start
        if exc.phase == "connect" and exc.kind in ("refused", "timeout", "unreachable", "no_route"):
            # refused is closed; no answer (filtered) and no route are judged by the caller
            battery.listening = False
            battery.closed_kind = {"timeout": "filtered", "no_route": "unreachable"}.get(exc.kind, exc.kind)
            battery.closed_reason = {
                "timeout": f"filtered (no answer to connect within {connect_timeout:g} s)",
                "unreachable": f"unreachable ({exc.detail})",
            }.get(exc.kind, exc.detail)  # no_route: "no route from this host (...)"
        else:
            battery.problem = f"{exc.kind} at {exc.phase}: {exc.detail}"
            battery.problem_kind = exc.kind
        return battery
    except _Refusing as exc:
        battery.elapsed = time.monotonic() - start
        battery.problem = f"server refuses at {exc.reply.phase}: {exc.reply}"
        battery.banner = exc.reply.text if exc.reply.phase == "banner" else ""
        return battery
    banner = session.banner.text if session.banner else ""
    battery.banner = banner
    battery.server_name = server_name_from(banner) or own_name or _literal(address)
    literal = _literal(address)
    plan: list[TestResult] = []
    for test in tests:
        sender, rcpt = test.render(relay_to, battery.server_name, literal)
        plan.append(TestResult(test.number, sender, rcpt))
    inbound_test = None
    if inbound:
        target = own_name or battery.server_name
        inbound_test = TestResult(0, f"{PROBE_SENDER}@{relay_to}", f"postmaster@{target}")
        plan.append(inbound_test)

    errors = syntax = 0
    fresh = True
    fallback = f"{PROBE_SENDER}@{relay_to}"
    literal_refused: str | None = None
    current: SMTPSession | None = session
    try:
        for item in plan:
            for _attempt in range(2):
                if time.monotonic() >= deadline:
                    item.detail = "not run: the check's time ran out"
                    break
                try:
                    if (
                        current is None
                        or errors >= ERRORS_PER_CONNECTION
                        or syntax >= SYNTAX_ERRORS_PER_CONNECTION
                    ):
                        if current is not None:
                            current.close()
                            current = None
                        if battery.connections >= MAX_CONNECTIONS:
                            item.detail = f"not run: {MAX_CONNECTIONS} connections used"
                            break
                        current = connect()
                        errors = syntax = 0
                        fresh = True
                    if not fresh:
                        current.rset()
                    fresh = False
                    item.detail = ""
                    if literal_refused is not None and literal in item.mail_from:
                        item.detail = f"sender {item.mail_from} replaced: refused earlier ({literal_refused})"
                        item.mail_from = fallback
                    item.mail = current.mail(item.mail_from)
                    replies = [item.mail]
                    if (
                        item.mail.permanent
                        and literal in item.mail_from
                        and classify(item.mail, None) == REFUSED
                    ):
                        # the [ip] sender is refused (Exim: a syntax error by default); the
                        # recipient form is what the test is about, so ask it with a plain sender
                        literal_refused = str(item.mail)
                        item.detail = f"sender {item.mail_from} refused ({item.mail}), retried as {fallback}"
                        item.mail_from = fallback
                        current.rset()
                        item.mail = current.mail(item.mail_from)
                        replies.append(item.mail)
                    item.reply = current.rcpt(item.rcpt) if item.mail.positive else None
                    replies.append(item.reply)
                    for reply in replies:
                        if reply is not None and not reply.positive:
                            errors += 1
                            syntax += reply.code in (500, 501, 553)
                        if reply is not None and reply.code == 421:
                            errors = ERRORS_PER_CONNECTION  # the server is closing: reconnect
                    break
                except ProbeError as exc:
                    if current is not None:
                        current.close()
                        current = None
                    item.mail = item.reply = None
                    item.detail = f"{exc.kind} at {exc.phase}: {exc.detail}"
                    if exc.kind == "deadline":
                        break
                except _Refusing as exc:
                    item.mail = item.reply = None
                    item.detail = f"server refused a new connection: {exc.reply}"
                    break
            item.outcome = classify(item.mail, item.reply)
            if item is inbound_test and item.outcome == RELAYED:
                item.outcome = ACCEPTED
    finally:
        if current is not None:
            current.close()
    battery.tests = [item for item in plan if item is not inbound_test]
    battery.inbound = inbound_test
    battery.elapsed = time.monotonic() - start
    return battery


class _Refusing(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply))
        self.reply = reply

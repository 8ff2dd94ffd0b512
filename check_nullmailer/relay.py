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

import re
import time
from dataclasses import dataclass, field

from check_callout.kit.text import sanitize
from check_callout.net.smtp import ProbeError, Reply, SMTPSession

DEFAULT_RELAY_TO = "example.net"  # RFC 2606: reserved, never a real destination
PROBE_SENDER = "relay-check"
PROBE_RCPT = "relay-probe"
ERRORS_PER_CONNECTION = 8  # below Postfix's smtpd_soft_error_limit (10)
SYNTAX_ERRORS_PER_CONNECTION = 2  # below Exim's smtp_max_synprot_errors (3)
MAX_CONNECTIONS = 12  # per battery

# outcomes of one test
RELAYED = "relayed"  # the foreign recipient was accepted: open relay
REFUSED = "refused"  # a definite refusal (5xx, or 4xx that says relaying is denied)
AUTH = "auth"  # authentication required
TEMPORARY = "temporary"  # 4xx that does not say why (greylisting, rate limits)
UNTESTED = "untested"  # the server could not be asked (dropped, deadline)
ACCEPTED = "accepted"  # inbound test: the server takes mail for itself

_RELAY_DENIED = re.compile(
    r"relay(?:ing)?\s+(?:access\s+)?(?:is\s+)?(?:denied|not\s+(?:permitted|allowed)|prohibited|refused)"
    r"|not\s+(?:permitted|allowed)\s+to\s+relay|unable\s+to\s+relay|we\s+do\s+not\s+relay",
    re.IGNORECASE,
)
_AUTH_TEXT = re.compile(r"auth\w*\s+(?:is\s+)?required|must\s+authenticate|5\.7\.0\s+auth", re.IGNORECASE)


@dataclass(frozen=True)
class RelayTest:
    """One relay attempt; ``{d}`` foreign domain, ``{srv}`` server name, ``{ip}`` ``[addr]``."""

    number: int
    mail_from: str
    rcpt: str

    def render(self, domain: str, server: str, literal: str) -> tuple[str, str]:
        values = {"d": domain, "srv": server, "ip": literal}
        return self.mail_from.format(**values), self.rcpt.format(**values)


_S = f"{PROBE_SENDER}@"
_R = PROBE_RCPT
# Tests whose recipient is the foreign address itself (plain, or behind a source route
# that RFC 5321 says to strip). The others address the server's own name and reach the
# foreign domain only if the server routes the % hack, bang paths or quoted addresses
# onward: accepting them is a possible relay, not a proven one.
DIRECT_TESTS = frozenset({1, 2, 3, 4, 12, 13})

TESTS: tuple[RelayTest, ...] = (
    RelayTest(1, "", f"{_R}@{{d}}"),
    RelayTest(2, _S + "{d}", f"{_R}@{{d}}"),
    RelayTest(3, _S + "{srv}", f"{_R}@{{d}}"),
    RelayTest(4, _S + "{ip}", f"{_R}@{{d}}"),
    RelayTest(5, _S + "{ip}", f"{_R}%{{d}}@{{ip}}"),
    RelayTest(6, _S + "{ip}", f"{_R}%{{d}}@{{srv}}"),
    RelayTest(7, _S + "{ip}", f'"{_R}@{{d}}"'),
    RelayTest(8, _S + "{ip}", f'"{_R}%{{d}}"'),
    RelayTest(9, _S + "{ip}", f"{_R}@{{d}}@{{ip}}"),
    RelayTest(10, _S + "{ip}", f'"{_R}@{{d}}"@{{ip}}'),
    RelayTest(11, _S + "{ip}", f"{_R}@{{d}}@{{srv}}"),
    RelayTest(12, _S + "{ip}", f"@{{ip}}:{_R}@{{d}}"),
    RelayTest(13, _S + "{ip}", f"@{{srv}}:{_R}@{{d}}"),
    RelayTest(14, _S + "{ip}", f"{{d}}!{_R}"),
    RelayTest(15, _S + "{ip}", f"{{d}}!{_R}@{{ip}}"),
    RelayTest(16, _S + "{ip}", f"{{d}}!{_R}@{{srv}}"),
)


@dataclass
class TestResult:
    """One test as run: the addresses sent, the replies, the outcome."""

    number: int  # 0 for the inbound test
    mail_from: str
    rcpt: str
    outcome: str = UNTESTED
    mail: Reply | None = None
    reply: Reply | None = None  # the RCPT reply
    detail: str = ""

    def describe(self) -> str:
        name = f"test {self.number}" if self.number else "inbound test"
        said = self.reply or self.mail
        answer = f"{said.phase.upper()} {said}" if said is not None else self.detail or "not asked"
        return f"{name} MAIL FROM:<{self.mail_from}> RCPT TO:<{self.rcpt}>: {sanitize(answer, 140)}"

    def note(self) -> str:
        """Why the test ran differently from its form (a replaced sender), if it did."""
        return self.detail if self.outcome != UNTESTED else ""


@dataclass
class Battery:
    """The battery on one port in one mode (plain, STARTTLS or implicit TLS)."""

    port: int
    mode: str  # "plain", "STARTTLS", "TLS"
    listening: bool = True
    closed_kind: str = ""  # not listening: "refused", "filtered" (no answer) or "unreachable"
    closed_reason: str = ""
    banner: str = ""
    server_name: str = ""
    starttls_offered: bool = False
    tests: list[TestResult] = field(default_factory=list)
    inbound: TestResult | None = None
    connections: int = 0
    problem: str = ""  # why the battery could not run (TLS failure, refusing banner)
    problem_kind: str = ""  # the ProbeError kind behind ``problem``, if one
    note: str = ""  # how the port was tested when not as asked (plain SMTP on 465)
    elapsed: float = 0.0

    @property
    def where(self) -> str:
        return f"port {self.port}" + ("" if self.mode == "plain" else f" ({self.mode})")


def classify(mail: Reply | None, rcpt: Reply | None) -> str:
    """The outcome of one relay test from its MAIL and RCPT replies."""
    reply = rcpt if mail is not None and mail.positive and rcpt is not None else mail
    if reply is None:
        return UNTESTED
    if mail is not None and mail.positive and rcpt is not None and rcpt.positive:
        return RELAYED
    text = reply.text
    if (reply.code == 530 and "starttls" not in text.lower()) or (
        reply.permanent and _AUTH_TEXT.search(text)
    ):
        return AUTH
    if reply.temporary and reply.code != 421:
        return REFUSED if _RELAY_DENIED.search(text) else TEMPORARY
    if reply.permanent or reply.code == 421:
        return REFUSED
    return UNTESTED


def _literal(address: str) -> str:
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+\.?$")


def server_name_from(*texts: str) -> str:
    """The host name a server announces (first word of its banner or EHLO reply)."""
    for text in texts:
        word = text.split(" ", 1)[0].strip() if text else ""
        if _NAME.match(word) and not word.replace(".", "").isdigit():
            return word.rstrip(".").lower()
    return ""


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

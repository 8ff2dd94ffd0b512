"""The relay battery as data: the sixteen address forms relay checkers have used for
decades (null and foreign senders, the server's own name and its ``[ip]`` as sender
domain; the ``%`` hack, quoted local parts, ``user@foreign@host``, source routes and
bang paths as recipients), what one test and one battery found, and how a reply is
classified.  :mod:`check_nullmailer.relay` runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from check_callout.kit.text import sanitize
from check_callout.net.smtp_wire import Reply

DEFAULT_RELAY_TO = "example.net"  # RFC 2606: reserved, never a real destination
PROBE_SENDER = "relay-check"
PROBE_RCPT = "relay-probe"

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

"""The callout dialogue with one server address, as a verifying receiver runs it.

``EHLO`` (``HELO`` if refused), ``STARTTLS`` when offered, then for each question
``MAIL FROM:<>``, ``RCPT TO:<recipient>``, ``RSET``; finally ``QUIT``.  Never
``DATA``.  Several questions (several senders routed to the same host, the random
local part, postmaster, a receiver profile's own probe sender such as Postfix's
``double-bounce@...``) share one connection, pipelined when the server offers it.
A failed TLS handshake is retried once in clear text, as Exim does by default (``tls_tempfail_tryclear``).
"""

from __future__ import annotations

import time
from collections import namedtuple

from check_callout.net.smtp import SMTPSession
from check_callout.net.smtp_wire import ProbeError, Reply
from check_callout.receiver import ACCEPT, BLIND, REJECT, TEMPFAIL, UNFINISHED, UNREACHABLE, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from check_callout.net.tls import TLSInfo


class ProbeSettings(
    namedtuple(
        "ProbeSettings",
        "port helo mail_from starttls timeout connect_timeout transcript",
        defaults=(25, "localhost", "", True, 30.0, 10.0, False),
    )
):
    """How to talk to servers: the SMTP part of
    :class:`check_callout.settings.CalloutSettings`, derived from it."""

    __slots__ = ()


class Dialogue:
    """What one server address answered: an outcome per question, times, TLS facts.

    ``answers`` is keyed by (MAIL FROM, recipient); ``outcomes`` by recipient, for the
    settings' own MAIL FROM (the null sender unless ``--mail-from``)."""

    def __init__(self, host: str, address: str, port: int) -> None:
        self.host = host
        self.address = address
        self.port = port
        self.outcomes: dict[str, Outcome] = {}
        self.answers: dict[tuple[str, str], Outcome] = {}
        self.timings: dict[str, float] = {}
        self.total = 0.0
        self.banner = ""
        self.tls: TLSInfo | None = None
        self.tls_note = ""
        self.transcript: list[str] = []

    def __repr__(self) -> str:
        return f"Dialogue({self.host!r}, {self.address!r}, {self.outcomes!r})"


def classify(reply: Reply) -> Outcome:
    """A reply as the receiver model sees it."""
    if reply.positive:
        kind = ACCEPT
    elif reply.permanent:
        kind = REJECT
    elif reply.temporary:
        kind = TEMPFAIL
    else:
        kind = UNREACHABLE
    return Outcome(kind, reply.phase, reply.code, reply.text)


def failure(exc: ProbeError, port: int = 25) -> Outcome:
    """A broken dialogue: the host could not be asked."""
    kind = {"deadline": UNFINISHED, "no_route": BLIND}.get(exc.kind, UNREACHABLE)
    at = "" if exc.phase == "connect" else f" at {exc.phase.upper()}"
    words = {
        "refused": f"refused port {port}",
        "timeout": f"timed out on port {port}{at}",
        "unreachable": f"is unreachable ({exc.detail})",
        "no_route": f"is unreachable: {exc.detail}",
        "closed": f"closed the connection{at}",
        "protocol": f"broke the protocol{at}: {exc.detail}",
        "tls": f"failed the TLS handshake: {exc.detail}",
        "deadline": f"had not answered{at} when the check's time ran out",
    }[exc.kind]
    return Outcome(kind, exc.phase, 0, words)


def run_dialogue(
    host: str,
    address: str,
    recipients: list[str],
    settings: ProbeSettings,
    deadline: float,
    also: Sequence[tuple[str, str]] = (),
) -> Dialogue:
    """Ask ``address`` about every recipient (with the settings' MAIL FROM), then each
    (MAIL FROM, recipient) of ``also`` on the same connection; never raises for network
    trouble."""
    start = time.monotonic()
    dialogue = Dialogue(host, address, settings.port)
    questions = [(settings.mail_from, r) for r in recipients]
    questions += [q for q in also if q not in questions]
    pending = list(questions)
    starttls = settings.starttls
    pipelining = True
    # first try, one TLS-less retry, and a reconnect after each break that left questions
    # open: while each connection answers at least one (a server that hangs up at RSET
    # answers one a connection), and once one at a time after a pipelined group broke off
    for _attempt in range(len(questions) + 3):
        if not pending:
            break
        before = len(pending)
        session = SMTPSession(
            address,
            settings.port,
            helo=settings.helo,
            deadline=deadline,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            starttls=starttls,
            server_name=None if host == address else host,
            transcript=dialogue.transcript if settings.transcript else None,
        )
        try:
            _converse(session, pending, dialogue, pipelining)
        except ProbeError as exc:
            if exc.kind == "tls" and starttls:
                dialogue.tls_note = f"TLS failed ({exc.detail}); retried in clear text, as Exim does"
                starttls = False
                continue
            broke_off = exc.phase in ("mail", "rcpt", "rset") and exc.kind == "closed"
            broke_off = broke_off or (exc.phase == "rset" and exc.kind == "protocol")
            # A server that hangs up with pipelined commands still unread makes its own
            # kernel send a reset, and the reset discards replies it had sent but this
            # host had not read yet (seen on Linux): the questions left open by a broken
            # pipelined group are asked again one at a time.
            pipelined = pipelining and "pipelining" in session.features
            if pipelined:
                pipelining = False
            if broke_off and (len(pending) < before or pipelined):
                continue
            outcome = failure(exc, settings.port)
            for question in pending:
                dialogue.answers[question] = outcome
            pending = []
        finally:
            session.close()
            for phase, took in session.timings.items():
                dialogue.timings[phase] = dialogue.timings.get(phase, 0.0) + took
            dialogue.tls = session.tls or dialogue.tls
            if session.banner is not None:
                dialogue.banner = str(session.banner)
    for question in pending:
        dialogue.answers.setdefault(question, Outcome(UNREACHABLE, text="dialogue kept breaking off"))
    dialogue.outcomes = {
        rcpt: o for (sender, rcpt), o in dialogue.answers.items() if sender == settings.mail_from
    }
    dialogue.total = time.monotonic() - start
    return dialogue


def _converse(
    session: SMTPSession, pending: list[tuple[str, str]], dialogue: Dialogue, pipelining: bool = True
) -> None:
    """Open the session and ask each pending question, removing it when answered;
    pipelined when the server offers it and ``pipelining`` allows it."""
    reply = session.open()
    if not reply.positive:
        outcome = classify(reply)
        for question in pending:
            dialogue.answers[question] = outcome
        pending.clear()
        return
    if pipelining and "pipelining" in session.features:
        _pipelined(session, pending, dialogue)
        return
    while pending:
        mail_from, rcpt = pending[0]
        t = time.monotonic()
        mail = session.mail(mail_from)
        if not mail.positive:
            _mail_refused(mail, mail_from, pending, dialogue)
            continue
        answer = session.rcpt(rcpt)
        dialogue.answers[pending.pop(0)] = _timed(classify(answer), time.monotonic() - t)
        session.rset()


PIPELINE_BATCH = 10  # questions per pipelined group (MAIL, RCPT, RSET each)


def _pipelined(session: SMTPSession, pending: list[tuple[str, str]], dialogue: Dialogue) -> None:
    """MAIL, RCPT, RSET for several questions in one write, as Exim pipelines its callouts."""
    while pending:
        batch = pending[:PIPELINE_BATCH]
        commands = []
        for mail_from, rcpt in batch:
            commands += [
                ("mail", "MAIL", f"FROM:<{mail_from}>"),
                ("rcpt", "RCPT", f"TO:<{rcpt}>"),
                ("rset", "RSET", ""),
            ]
        t = time.monotonic()
        try:
            replies = session.pipeline(commands)
        except ProbeError as exc:
            # the replies read before the break are answers: keep them; only the
            # questions without one are judged by the break (or asked again)
            _answered(batch, exc.replies, time.monotonic() - t, pending, dialogue)
            raise
        _answered(batch, replies, time.monotonic() - t, pending, dialogue)


def _answered(
    batch: list[tuple[str, str]],
    replies: list[Reply],
    took: float,
    pending: list[tuple[str, str]],
    dialogue: Dialogue,
) -> None:
    """Record the questions of a pipelined ``batch`` that ``replies`` (MAIL, RCPT, RSET
    for each, possibly cut short by a break) answer, and take them off ``pending``."""
    for index, question in enumerate(batch):
        if len(replies) <= 3 * index:
            return  # no reply to this MAIL: neither this question nor later ones
        if question not in pending:
            continue  # answered by a refused MAIL FROM of the same sender
        mail = replies[3 * index]
        if not mail.positive:
            _mail_refused(mail, question[0], pending, dialogue)
            continue
        if len(replies) <= 3 * index + 1:
            return  # MAIL answered, RCPT not: the question is still open
        dialogue.answers[question] = _timed(classify(replies[3 * index + 1]), took)
        pending.remove(question)


def _mail_refused(mail: Reply, mail_from: str, pending: list[tuple[str, str]], dialogue: Dialogue) -> None:
    """A refused MAIL FROM answers every question with that sender on this host (a 5xx
    fails those callouts, a 4xx defers them); other senders are still asked."""
    outcome = classify(mail)
    for question in [q for q in pending if q[0] == mail_from]:
        dialogue.answers[question] = outcome
        pending.remove(question)


def _timed(outcome: Outcome, took: float) -> Outcome:
    return Outcome(outcome.kind, outcome.phase, outcome.code, outcome.text, took)

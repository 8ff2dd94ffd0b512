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
    for _attempt in range(3):  # first try, TLS-less retry, one reconnect after a drop
        if not pending:
            break
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
            _converse(session, pending, dialogue)
        except ProbeError as exc:
            if exc.kind == "tls" and starttls:
                dialogue.tls_note = f"TLS failed ({exc.detail}); retried in clear text, as Exim does"
                starttls = False
                continue
            outcome = failure(exc, settings.port)
            retry = exc.phase in ("mail", "rcpt", "rset") and exc.kind == "closed"
            if retry and len(pending) < len(questions):
                continue  # it answered some: reconnect once for the rest
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


def _converse(session: SMTPSession, pending: list[tuple[str, str]], dialogue: Dialogue) -> None:
    """Open the session and ask each pending question, removing it when answered."""
    reply = session.open()
    if not reply.positive:
        outcome = classify(reply)
        for question in pending:
            dialogue.answers[question] = outcome
        pending.clear()
        return
    if "pipelining" in session.features:
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
        replies = session.pipeline(commands)
        took = time.monotonic() - t
        for index, question in enumerate(batch):
            if question not in pending:
                continue  # answered by a refused MAIL FROM of the same sender
            mail, answer = replies[3 * index], replies[3 * index + 1]
            if not mail.positive:
                _mail_refused(mail, question[0], pending, dialogue)
                continue
            dialogue.answers[question] = _timed(classify(answer), took)
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

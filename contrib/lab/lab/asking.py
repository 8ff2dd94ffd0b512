"""Asking the live receivers: one SMTP dialogue up to RCPT, asking a Postfix receiver
again while its verification runs, and many questions at once from a lab namespace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from .base import RX_V4, lab_argv, lab_env, nsrun
from .scenarios import RECEIVER, Receiver


def smtp_ask(
    host: str, sender: str, rcpt: str, port: int = 25, helo: str = "mon.test", timeout: float = 60.0
) -> dict:
    """One real SMTP dialogue: EHLO, MAIL FROM:<sender>, RCPT TO:<rcpt>, QUIT.

    Returns the codes and the receiver action they mean (accept/defer/reject)."""
    import smtplib

    out: dict = {"host": host, "sender": sender, "rcpt": rcpt}
    t0 = time.monotonic()
    s = smtplib.SMTP(timeout=timeout, local_hostname=helo)
    try:
        code, msg = s.connect(host, port)
        out["greeting"] = [code, msg.decode(errors="replace")]
        s.ehlo()
        code, msg = s.mail(sender)
        out["mail"] = [code, msg.decode(errors="replace")]
        if code < 400:
            code, msg = s.rcpt(rcpt)
            out["rcpt_reply"] = [code, msg.decode(errors="replace")]
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    finally:
        s.close()
    out["seconds"] = round(time.monotonic() - t0, 3)
    out["action"] = {2: "accept", 4: "defer", 5: "reject"}.get(code // 100, "unknown")
    return out


def ask(host: str, sender: str, rcpt: str, node: str = "mon") -> dict:
    """One live SMTP dialogue with HOST, from a lab namespace (monitoring by default)."""
    cp = nsrun(
        node,
        *lab_argv("smtp-ask", "--host", host, "--sender", sender, "--rcpt", rcpt),
        timeout=90,
        env=lab_env(),
    )
    return json.loads(cp.stdout)


def ask_exim(sender: str, rcpt: str = "user@rx.test", node: str = "mon") -> dict:
    """Ask the Exim receiver live what it answers for SENDER."""
    return ask(RX_V4, sender, rcpt, node)


#: asking a Postfix receiver again while its probe is running: at most this many
#: dialogues, this far apart, within this many seconds in all
POLL_TRIES = 8
POLL_DELAY = 2.0
POLL_BUDGET = 60.0
IN_PROGRESS = "Address verification in progress"


def poll_bounded(ask_once: Callable[[float], tuple[dict, list]], poll: bool) -> tuple[dict, list, dict]:
    """Ask once: ASK_ONCE gets the seconds left and returns its answer and the [code, text]
    reply that decides. While POLL and that reply says "verification in progress", ask
    again (ASK_ONCE opens a new connection), at most POLL_TRIES times, POLL_DELAY apart,
    within POLL_BUDGET seconds. Returns the last answer, its reply, and the polling
    record: ``tries``, ``in_progress`` (the replies before), ``seconds``."""
    t0 = time.monotonic()
    early: list[list] = []
    for attempt in range(1, POLL_TRIES + 1):
        out, reply = ask_once(max(1.0, POLL_BUDGET - (time.monotonic() - t0)))
        if not (poll and IN_PROGRESS in reply[1]):
            break
        early.append(reply)
        if attempt == POLL_TRIES or time.monotonic() - t0 + POLL_DELAY > POLL_BUDGET:
            break
        time.sleep(POLL_DELAY)
    return out, reply, {"tries": attempt, "in_progress": early, "seconds": round(time.monotonic() - t0, 3)}


def poll_ask(receiver: Receiver, sender: str) -> dict:
    """Ask RECEIVER about SENDER; a polling receiver is asked again, each time on a new
    connection, until its reply is no longer "verification in progress" (bounded)."""

    def once(timeout: float) -> tuple[dict, list]:
        try:
            out = smtp_ask(receiver.host, sender, receiver.rcpt, port=receiver.port, timeout=timeout)
        except (OSError, EOFError) as exc:  # smtplib's errors are OSErrors
            out = {"error": f"{type(exc).__name__}: {exc}", "action": "unknown"}
        return out, out.get("rcpt_reply") or out.get("mail") or [0, ""]

    out, reply, record = poll_bounded(once, receiver.poll)
    out.update(receiver=receiver.name, **record)
    out["code"], out["text"] = reply
    out["answer"] = answer_of(receiver.name, reply[0], reply[1])
    return out


def answer_of(receiver: str, code: int, text: str) -> str:
    """What a reply means: accept/defer/reject; a Postfix receiver's 4xx is told apart by
    its text: ``unverified`` (the probe was deferred), ``undeliverable`` (it bounced),
    ``in progress`` (no result yet)."""
    if receiver == "postfix" and code // 100 != 2:
        for word in ("undeliverable", "unverified"):
            if f"{word} address" in text:
                return word
        if IN_PROGRESS in text:
            return "in progress"
    return {2: "accept", 4: "defer", 5: "reject"}.get(code // 100, "unknown")


def ask_receivers(questions: list[tuple[str, str]], node: str = "mon") -> list[dict]:
    """Ask live receivers about senders, all at once, from a lab namespace.

    QUESTIONS are (receiver name, sender) pairs; the answers come back in that order."""
    budget = POLL_BUDGET + 30
    cp = nsrun(
        node,
        *lab_argv("ask-many"),
        input=json.dumps(questions),
        timeout=budget + 10,
        env=lab_env(),
    )
    return json.loads(cp.stdout)


def _ask_many(questions: list[tuple[str, str]]) -> list[dict]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(poll_ask, RECEIVER[name], sender) for name, sender in questions]
        return [f.result(timeout=POLL_BUDGET + 30) for f in futures]

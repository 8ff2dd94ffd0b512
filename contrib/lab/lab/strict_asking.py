"""Asking the strict receivers as a sending host would: from the scenario's own source
address, with its HELO name and MAIL FROM, up to RCPT, then RSET and QUIT (never DATA).
A receiver that verifies the sender by a probe of its own is asked again, on a new
connection, while it answers "verification in progress" (bounded)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .asking import POLL_BUDGET, poll_bounded
from .base import ESX_V4, PSX_V4, lab_argv, lab_env, nsrun
from .strict_scenarios import STRICT_RCPT_DOMAINS, STRICT_SCENARIO, STRICT_SCENARIOS


@dataclass(frozen=True)
class StrictReceiver:
    name: str
    host: str
    port: int
    domain: str
    poll: bool = False


STRICT_RECEIVERS = [
    StrictReceiver("postfix:strict", PSX_V4, 25, STRICT_RCPT_DOMAINS["postfix:strict"], poll=True),
    StrictReceiver("exim:strict", ESX_V4, 25, STRICT_RCPT_DOMAINS["exim:strict"]),
]
STRICT_RECEIVER = {r.name: r for r in STRICT_RECEIVERS}


def _text(msg: bytes) -> str:
    return msg.decode(errors="replace")


def sender_dialogue(
    host: str, port: int, source: str, helo: str, sender: str, rcpt: str, timeout: float = 60.0
) -> dict:
    """One SMTP dialogue from SOURCE: EHLO HELO (HELO again if EHLO is refused),
    MAIL FROM:<SENDER>, RCPT TO:<RCPT>, RSET, QUIT. Returns the first refusal or the RCPT
    reply: ``stage`` (connect, ehlo, helo, mail, rcpt), ``code``, ``text``."""
    import smtplib

    out: dict = {"stage": "connect"}
    s = smtplib.SMTP(timeout=timeout, local_hostname=helo, source_address=(source, 0))
    try:
        code, msg = s.connect(host, port)
        out.update(code=code, text=_text(msg))
        if code // 100 == 2:
            code, msg = s.ehlo()
            out.update(stage="ehlo", code=code, text=_text(msg))
            if code // 100 != 2:
                out["ehlo"] = [code, _text(msg)]
                code, msg = s.helo()
                out.update(stage="helo", code=code, text=_text(msg))
        if code // 100 == 2:
            code, msg = s.mail(sender)
            out.update(stage="mail", code=code, text=_text(msg))
        if code // 100 == 2:
            code, msg = s.rcpt(rcpt)
            out.update(stage="rcpt", code=code, text=_text(msg))
        try:
            s.rset()
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
    finally:
        s.close()
    return out


def strict_ask(receiver: StrictReceiver, scenario_id: str) -> dict:
    """Ask RECEIVER what it answers to SCENARIO's sending configuration (bounded polling)."""
    sc = STRICT_SCENARIO[scenario_id]

    def once(timeout: float) -> tuple[dict, list]:
        try:
            out = sender_dialogue(
                receiver.host,
                receiver.port,
                sc.addr,
                sc.helo_name,
                sc.sender,
                f"{sc.id}@{receiver.domain}",
                timeout=timeout,
            )
        except (OSError, EOFError) as exc:  # smtplib's errors are OSErrors
            out = {"stage": "error", "code": 0, "text": f"{type(exc).__name__}: {exc}"}
        return out, [out["code"], out["text"]]

    out, _, record = poll_bounded(once, receiver.poll)
    out.update(
        receiver=receiver.name,
        scenario=sc.id,
        **record,
        answer={2: "accept", 4: "defer", 5: "reject"}.get(out["code"] // 100, "unknown"),
    )
    return out


def strict_ask_here(questions: list[tuple[str, str]]) -> list[dict]:
    """Every (receiver, scenario id) question at once, from this namespace."""
    with ThreadPoolExecutor(max_workers=max(1, min(64, len(questions)))) as pool:
        futures = [pool.submit(strict_ask, STRICT_RECEIVER[r], s) for r, s in questions]
        return [f.result(timeout=POLL_BUDGET + 30) for f in futures]


def ask_strict_receivers(questions: list[tuple[str, str]] | None = None) -> list[dict]:
    """Ask the strict receivers, every question at once, each from its scenario's own
    namespace (the sender host, or web1 for web1-fixed). Default: every scenario x every
    strict receiver. Answers come back in the order of the questions."""
    if questions is None:
        questions = [(r.name, s.id) for s in STRICT_SCENARIOS for r in STRICT_RECEIVERS]
    by_node: dict[str, list[int]] = {}
    for i, (_, sid) in enumerate(questions):
        by_node.setdefault(STRICT_SCENARIO[sid].node, []).append(i)

    def run(node: str) -> list[dict]:
        cp = nsrun(
            node,
            *lab_argv("strict-ask-many"),
            input=json.dumps([questions[i] for i in by_node[node]]),
            timeout=POLL_BUDGET + 40,
            env=lab_env(),
        )
        return json.loads(cp.stdout)

    answers: list[dict] = [{}] * len(questions)
    with ThreadPoolExecutor(max_workers=len(by_node)) as pool:
        for node, got in zip(by_node, pool.map(run, by_node)):
            for i, a in zip(by_node[node], got):
                answers[i] = a
    return answers

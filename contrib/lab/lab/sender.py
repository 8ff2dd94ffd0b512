"""cclab-snd: the sender host of the strict scenarios (192.0.2.101-130, one address per
scenario) and a real Postfix null mailer on it that sends real mail for a few scenarios,
each through its own transport (``smtp_bind_address`` = the scenario's address,
``smtp_helo_name`` = its HELO name), to show that the receivers answer real mail as they
answer the dialogue that stops at RCPT.

``soft_bounce = yes``: a refused message stays in the queue with the receiver's reply
instead of bouncing back to a sender domain of the lab."""

from __future__ import annotations

import re
import time

from .base import LabError, nsrun, wait_until
from .postfix import postfix_dir, postfix_queue, setup_postfix
from .strict_asking import STRICT_RECEIVERS
from .strict_scenarios import STRICT_SCENARIOS, StrictScenario

REAL_MAIL = [s for s in STRICT_SCENARIOS if s.real_mail and s.node == "snd"]
#: how long the real messages may take to be delivered or deferred, in all
REAL_MAIL_BUDGET = 60.0


def transport_name(s: StrictScenario) -> str:
    return f"t{s.octet}"


def configure_sender() -> None:
    transports, table = [], []
    for s in REAL_MAIL:
        transports.append(
            f"{transport_name(s)} unix - - n - - smtp\n"
            f"  -o smtp_bind_address={s.addr}\n  -o smtp_helo_name={s.helo_name}"
        )
        for r in STRICT_RECEIVERS:
            table.append(f"{s.id}@{r.domain} {transport_name(s)}:[{r.host}]:{r.port}")
    setup_postfix(
        "snd",
        {
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "relayhost": "",
            "soft_bounce": "yes",
            "transport_maps": f"texthash:{postfix_dir('snd')}/transport",
            "smtp_tls_security_level": "none",
        },
        transports,
        {"transport": "\n".join(table) + "\n"},
    )


def send_real_mail() -> None:
    """One message per real-mail scenario, to both strict receivers."""
    conf = str(postfix_dir("snd"))
    for s in REAL_MAIL:
        rcpts = [f"{s.id}@{r.domain}" for r in STRICT_RECEIVERS]
        body = f"Subject: strict scenario {s.id}\n\n{s.what}\n"
        nsrun("snd", "sendmail", "-C", conf, "-f", s.sender or "<>", "--", *rcpts, input=body)


_STATUS = re.compile(r"\bto=<(?P<rcpt>[^>]+)>.*\bstatus=(?P<status>\w+) \((?P<why>.*)\)$")
# Postfix logs a multi-line reply as it came: "550-first line 550 last line"
_SAID = re.compile(r"said: (?P<code>\d{3})[ -](?P<text>.*) \(in reply to (?P<cmd>[A-Z ]+?) command\)$")


def real_mail_results(timeout: float = REAL_MAIL_BUDGET) -> dict[tuple[str, str], dict]:
    """(scenario id, receiver) -> how the real message fared: ``status`` (sent, deferred),
    and for a refusal the receiver's ``code``, ``text`` and the ``command`` it answered."""
    want = {(s.id, r.name): f"{s.id}@{r.domain}" for s in REAL_MAIL for r in STRICT_RECEIVERS}
    maillog = postfix_dir("snd").parent / "maillog"

    def results() -> dict | None:
        try:
            lines = maillog.read_text(errors="replace").splitlines()
        except OSError:
            return None
        seen: dict[str, dict] = {}
        for line in lines:
            m = _STATUS.search(line)
            if m:
                got = {"status": m["status"], "log": m["why"]}
                said = _SAID.search(m["why"])
                if said:
                    text = re.sub(rf"\s{said['code']}[ -]", " ", said["text"])
                    got.update(code=int(said["code"]), text=text, command=said["cmd"])
                elif m["status"] == "sent":
                    got.update(code=250)
                seen[m["rcpt"]] = got
        if all(rcpt in seen for rcpt in want.values()):
            return {key: seen[rcpt] for key, rcpt in want.items()}
        return None

    try:
        return wait_until("the real messages to be delivered or deferred", results, timeout=timeout, step=0.5)
    except LabError:
        left = [rcpt for rcpt in want.values() if rcpt not in (results() or {})]
        raise LabError(f"no delivery result for {left}; queue: {postfix_queue('snd')}") from None


def real_mail_round() -> dict[tuple[str, str], dict]:
    """Send the real messages and wait (bounded) until each recipient's fate is logged."""
    t0 = time.monotonic()
    send_real_mail()
    out = real_mail_results()
    for v in out.values():
        v["seconds"] = round(time.monotonic() - t0, 1)
    return out

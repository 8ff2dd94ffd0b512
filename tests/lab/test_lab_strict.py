"""The strict receivers of the lab, asked about every strict scenario.

``cclab-psx`` is a Postfix with postfix-policyd-spf-python (stock configuration) and
the HELO, reverse-DNS, sender-domain and callout restrictions; ``cclab-esx`` an Exim
(exim4-daemon-heavy) whose RCPT ACL checks SPF, the HELO name, reverse DNS and the sender
by callout (docs/lab.md quotes both configurations). Every scenario leaves from its own
address of ``cclab-snd`` with its own HELO name and MAIL FROM, and stops after RCPT
(RSET, QUIT); all questions go out at once. Each live reply (the refusing stage, the
code, the whole text) must equal one stored in
``tests/data/receivers/strict-live-replies.json``; ``CCLAB_RECORD=1`` merges new
variants into that file.

A real Postfix null mailer on ``cclab-snd`` then sends real mail for a few scenarios
(one transport each: the scenario's source address and HELO name), and each message
must get the answer the dialogue got.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from lab import STRICT_RECEIVERS, STRICT_SCENARIOS

DATA = Path(__file__).resolve().parents[1] / "data" / "receivers" / "strict-live-replies.json"
CELLS = [(s, r) for s in STRICT_SCENARIOS for r in STRICT_RECEIVERS]
#: the whole table's wall time at most (the slowest cell: policyd-spf waiting for a
#: silent DNS server, about 25 s)
TABLE_BUDGET = 45.0


def stored() -> dict:
    try:
        return json.loads(DATA.read_text())
    except FileNotFoundError:
        return {"scenarios": {}}


def _reply(got: dict) -> dict:
    """What a cell stores: the answer, the refused command, code and text (and the EHLO
    refusal before a refused HELO)."""
    out = {"answer": got["answer"], "stage": got["stage"], "code": got["code"], "text": got["text"]}
    if "ehlo" in got:
        out["ehlo"] = got["ehlo"]
    return out


def record(answers: dict, seconds: float) -> None:
    """Merge the live answers into the data file (every variant seen is kept)."""
    data = stored()
    data["about"] = (
        "Replies of the lab's strict receivers to each strict scenario's sending "
        "configuration (source address, HELO name, MAIL FROM; RCPT TO:<scenario@domain>, "
        "then RSET, QUIT), by scenario and receiver; 'stage' is the command refused "
        "(helo when EHLO and HELO were both refused), else rcpt. Written by "
        "tests/lab/test_lab_strict.py with CCLAB_RECORD=1; the configurations are in "
        "docs/lab.md."
    )
    data["software"] = (
        "Postfix 3.7.11 with postfix-policyd-spf-python 3.0.4 (python3-spf 2.0.14), "
        "Exim 4.96 exim4-daemon-heavy (libspf2 1.2.10), dnsmasq 2.90 (Debian 12)"
    )
    data["receivers"] = {
        r.name: {"host": r.host, "port": r.port, "rcpt_domain": r.domain} for r in STRICT_RECEIVERS
    }
    data["table_seconds"] = round(seconds, 1)
    for s in STRICT_SCENARIOS:
        entry = data["scenarios"].setdefault(s.id, {})
        entry.update(what=s.what, client=s.addr, helo=s.helo_name, sender=s.sender, node=s.node)
        replies = entry.setdefault("replies", {})
        for r in STRICT_RECEIVERS:
            got = answers[(s.id, r.name)]
            cell = replies.setdefault(r.name, {"variants": []})
            if _reply(got) not in cell["variants"]:
                cell["variants"].append(_reply(got))
            cell["seconds"] = got["seconds"]
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def live(lab) -> dict:
    """(scenario id, receiver name) -> the live answer, every question asked at once."""
    t0 = time.monotonic()
    answers = lab.ask_strict_receivers([(r.name, s.id) for s, r in CELLS])
    seconds = time.monotonic() - t0
    table = {(s.id, r.name): a for (s, r), a in zip(CELLS, answers)}
    table["seconds"] = seconds
    if os.environ.get("CCLAB_RECORD"):
        record(table, seconds)
    return table


@pytest.fixture(scope="module")
def real_mail(lab, live) -> dict:
    """The real messages, sent after the table (Postfix's verification cache is warm)."""
    return lab.real_mail_round()


@pytest.mark.parametrize("scenario,receiver", CELLS, ids=[f"{s.id}-{r.name}" for s, r in CELLS])
def test_live_reply_is_stored(live, scenario, receiver):
    got = live[(scenario.id, receiver.name)]
    assert got["stage"] not in ("error", "connect"), got
    cell = stored()["scenarios"].get(scenario.id, {}).get("replies", {}).get(receiver.name)
    assert cell, f"no stored reply for {scenario.id}/{receiver.name}: run with CCLAB_RECORD=1"
    assert _reply(got) in cell["variants"], (got, cell["variants"])


def test_table_is_asked_concurrently(live):
    assert live["seconds"] < TABLE_BUDGET, live["seconds"]


def test_every_stored_scenario_exists():
    ids = {s.id for s in STRICT_SCENARIOS}
    assert set(stored()["scenarios"]) == ids


def test_the_issues_story_earns_an_spf_refusal(live):
    """good.test-like 'v=spf1 mx -all' and a null mailer that is not its MX: both 550."""
    for r in STRICT_RECEIVERS:
        got = live[("story", r.name)]
        assert (got["stage"], got["code"]) == ("rcpt", 550), got
        assert "SPF" in got["text"], got


def test_the_seed_null_mailer_passes_after_its_fix(live):
    """web1.good.test sending as root@good.test (PTR, A record, good.test's SPF)."""
    for r in STRICT_RECEIVERS:
        assert live[("web1-fixed", r.name)]["answer"] == "accept", live[("web1-fixed", r.name)]


def test_a_clean_sender_passes_every_check(live):
    for r in STRICT_RECEIVERS:
        assert live[("clean", r.name)]["code"] == 250, live[("clean", r.name)]


@pytest.mark.parametrize("receiver", [r.name for r in STRICT_RECEIVERS])
def test_real_mail_gets_the_dialogues_answer(live, real_mail, receiver):
    """What the receiver answered the real message (accepted: sent; refused: the reply to
    RCPT TO, kept in the null mailer's queue by soft_bounce and logged) equals its answer
    to the dialogue that stopped at RCPT."""
    seen = {sid: v for (sid, r), v in real_mail.items() if r == receiver}
    assert seen, real_mail
    for sid, got in seen.items():
        asked = live[(sid, receiver)]
        if asked["code"] // 100 == 2:
            assert got["status"] == "sent", (sid, got, asked)
        else:
            assert got.get("command") == "RCPT TO", (sid, got)
            # Postfix logs a multi-line reply's lines joined by a space
            assert (got["code"], got["text"]) == (asked["code"], " ".join(asked["text"].splitlines())), (
                sid,
                got,
                asked,
            )

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

import pytest

from tests.lab.strict_data import CELLS, STRICT_RECEIVERS, STRICT_SCENARIOS, TABLE_BUDGET, reply_of, stored


@pytest.mark.parametrize("scenario,receiver", CELLS, ids=[f"{s.id}-{r.name}" for s, r in CELLS])
def test_live_reply_is_stored(strict_live, scenario, receiver):
    got = strict_live[(scenario.id, receiver.name)]
    assert got["stage"] not in ("error", "connect"), got
    cell = stored()["scenarios"].get(scenario.id, {}).get("replies", {}).get(receiver.name)
    assert cell, f"no stored reply for {scenario.id}/{receiver.name}: run with CCLAB_RECORD=1"
    assert reply_of(got) in cell["variants"], (got, cell["variants"])


def test_table_is_asked_concurrently(strict_live):
    assert strict_live["seconds"] < TABLE_BUDGET, strict_live["seconds"]


def test_every_stored_scenario_exists():
    ids = {s.id for s in STRICT_SCENARIOS}
    assert set(stored()["scenarios"]) == ids


def test_the_issues_story_earns_an_spf_refusal(strict_live):
    """good.test-like 'v=spf1 mx -all' and a null mailer that is not its MX: both 550."""
    for r in STRICT_RECEIVERS:
        got = strict_live[("story", r.name)]
        assert (got["stage"], got["code"]) == ("rcpt", 550), got
        assert "SPF" in got["text"], got


def test_the_seed_null_mailer_passes_after_its_fix(strict_live):
    """web1.good.test sending as root@good.test (PTR, A record, good.test's SPF)."""
    for r in STRICT_RECEIVERS:
        assert strict_live[("web1-fixed", r.name)]["answer"] == "accept", strict_live[("web1-fixed", r.name)]


def test_a_clean_sender_passes_every_check(strict_live):
    for r in STRICT_RECEIVERS:
        assert strict_live[("clean", r.name)]["code"] == 250, strict_live[("clean", r.name)]


@pytest.mark.parametrize("receiver", [r.name for r in STRICT_RECEIVERS])
def test_real_mail_gets_the_dialogues_answer(strict_live, real_mail, receiver):
    """What the receiver answered the real message (accepted: sent; refused: the reply to
    RCPT TO, kept in the null mailer's queue by soft_bounce and logged) equals its answer
    to the dialogue that stopped at RCPT."""
    seen = {sid: v for (sid, r), v in real_mail.items() if r == receiver}
    assert seen, real_mail
    for sid, got in seen.items():
        asked = strict_live[(sid, receiver)]
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


@pytest.fixture(scope="module")
def real_mail(lab, strict_live) -> dict:
    """The real messages, sent after the table (Postfix's verification cache is warm)."""
    return lab.real_mail_round()

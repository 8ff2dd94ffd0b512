"""Every live receiver of the lab, asked about every scenario.

The receivers: the Exim of ``cclab-rx`` with the bare ``callout`` and with
``callout=defer_ok``, ``callout=random``, ``callout=postmaster`` (one daemon each, each
with its own callout cache), and a Postfix with ``reject_unverified_sender``
(``cclab-prx``), asked again on a new connection while it answers "Address
verification in progress".  All questions go out at once, from the monitoring
namespace; each cell of the table is one test.

The exact replies are kept in ``tests/data/receivers/live-replies.json`` (the data
the receiver profiles are checked against without a lab); a live reply must equal
the stored one once IP addresses are masked (Postfix orders a host's addresses at
random).  ``CCLAB_RECORD=1`` rewrites that file from the live answers, keeping
every variant seen.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import lab as lab_module
import pytest
from lab import RECEIVERS, SCENARIOS

DATA = Path(__file__).resolve().parents[1] / "data" / "receivers" / "live-replies.json"
CELLS = [(s, r) for s in SCENARIOS for r in RECEIVERS]


def masked(text: str) -> str:
    """A reply with its IP addresses replaced: ``host mx[ADDR] said``, ``Called: ADDR``."""
    text = re.sub(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "ADDR", text)
    return re.sub(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", "ADDR", text)


def stored() -> dict:
    try:
        return json.loads(DATA.read_text())
    except FileNotFoundError:
        return {"scenarios": {}}


def record(answers: dict, seconds: float) -> None:
    """Merge the live answers into the data file (every masked variant is kept)."""
    data = stored()
    data["about"] = ("Replies of the lab's live receivers (RCPT TO after MAIL FROM:<sender>, "
                     "from mon.test), by scenario and receiver; written by "
                     "tests/lab/test_lab_receivers.py with CCLAB_RECORD=1.")
    data["software"] = "Exim 4.96, Postfix 3.7.11, dnsmasq 2.90 (Debian 12)"
    data["receivers"] = {r.name: {"host": r.host, "port": r.port, "rcpt": r.rcpt,
                                  "asks_again_while_in_progress": r.poll} for r in RECEIVERS}
    data["table_seconds"] = round(seconds, 1)
    for s in SCENARIOS:
        entry = data["scenarios"].setdefault(s.id, {})
        entry.update(sender=s.sender, what=s.what)
        replies = entry.setdefault("replies", {})
        for r in RECEIVERS:
            got = answers[(s.id, r.name)]
            cell = replies.setdefault(r.name, {"variants": []})
            variant = {"answer": got["answer"], "code": got["code"], "text": got["text"]}
            if all(masked(v["text"]) != masked(got["text"]) or v["code"] != got["code"]
                   for v in cell["variants"]):
                cell["variants"].append(variant)
            cell["tries"] = got["tries"]
            cell["seconds"] = got["seconds"]
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def live(lab) -> dict:
    """(scenario id, receiver name) -> the live answer, every question asked at once."""
    t0 = time.monotonic()
    answers = lab.ask_receivers([(r.name, s.sender) for s, r in CELLS])
    table = {(s.id, r.name): a for (s, r), a in zip(CELLS, answers)}
    if os.environ.get("CCLAB_RECORD"):
        record(table, time.monotonic() - t0)
    return table


@pytest.mark.parametrize("scenario,receiver", CELLS,
                         ids=[f"{s.id}-{r.name}" for s, r in CELLS])
def test_live_answer_is_as_designed(live, scenario, receiver):
    got = live[(scenario.id, receiver.name)]
    assert "error" not in got, got
    assert got["answer"] in scenario.designed(receiver.name).split("|"), (
        f"{receiver.name} answered {got['code']} {got['text']!r} for {scenario.sender}; "
        f"designed: {scenario.designed(receiver.name)}")
    # the reply text is one already seen (addresses masked)
    cell = stored()["scenarios"].get(scenario.id, {}).get("replies", {}).get(receiver.name)
    assert cell, f"no stored reply for {scenario.id}/{receiver.name}: run with CCLAB_RECORD=1"
    seen = {(v["code"], masked(v["text"])) for v in cell["variants"]}
    assert (got["code"], masked(got["text"])) in seen, (got, cell["variants"])


def test_postfix_reply_shape(live):
    """Postfix's words with its defaults: 450 4.1.7 ... unverified address: <reason>,
    for a bounced probe as for a deferred one."""
    for s in SCENARIOS:
        got = live[(s.id, "postfix")]
        if got["answer"] == "accept":
            assert got["code"] == 250, got
            continue
        assert got["code"] == 450, got
        assert re.match(rf"4\.1\.7 <{re.escape(s.sender)}>: Sender address rejected: "
                        r"unverified address: \S", got["text"]), got


def test_postfix_was_polled_within_bounds(live):
    for s in SCENARIOS:
        got = live[(s.id, "postfix")]
        assert got["tries"] <= lab_module.POLL_TRIES, got
        assert got["seconds"] < lab_module.POLL_BUDGET + 5, got
        assert lab_module.IN_PROGRESS not in got["text"], got


def test_receivers_disagree_where_designed(live):
    """The scenarios added for the receivers' differences really split them."""
    for sid in ("null-sender-refused", "many-deferring-mx", "bounce-refused-at-rcpt",
                "catch-all-disabled", "no-postmaster", "seed", "tempfail"):
        answers = {live[(sid, r.name)]["code"] // 100 for r in RECEIVERS}
        assert len(answers) > 1, {r.name: live[(sid, r.name)]["code"] for r in RECEIVERS}

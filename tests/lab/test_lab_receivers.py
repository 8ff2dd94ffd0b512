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

Then check_callout predicts, from the monitoring namespace, what every receiver
profile does for every scenario (``--receiver`` for each live receiver), and each
prediction is compared with the live answer: the same answer (accept/defer/reject;
for Postfix accept/unverified), the same reply code, and the same words (Postfix: the
whole reply, addresses masked; Exim: its last line, "Sender verify failed").  The
first line must name what the deciding receiver would do, for Exim deciding and for
Postfix deciding.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lab as lab_module
import pytest
from lab import DNS_V4, RECEIVERS, SCENARIOS

from tests.lab.conftest import run_plugin
from tests.support.lab import read_replies, write_replies

DATA = Path(__file__).resolve().parents[1] / "data" / "receivers" / "live-replies.json"
CELLS = [(s, r) for s in SCENARIOS for r in RECEIVERS]


def masked(text: str) -> str:
    """A reply with its IP addresses replaced: ``host mx[ADDR] said``, ``Called: ADDR``."""
    text = re.sub(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "ADDR", text)
    return re.sub(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", "ADDR", text)


def stored() -> dict:
    return read_replies(DATA)


def record(answers: dict, seconds: float) -> None:
    """Merge the live answers into the data file (every masked variant is kept)."""
    data = stored()
    data["about"] = (
        "Replies of the lab's live receivers (RCPT TO after MAIL FROM:<sender>, "
        "from mon.test), by scenario and receiver; written by "
        "tests/lab/test_lab_receivers.py with CCLAB_RECORD=1."
    )
    data["software"] = "Exim 4.96, Postfix 3.7.11, dnsmasq 2.90 (Debian 12)"
    data["receivers"] = {
        r.name: {"host": r.host, "port": r.port, "rcpt": r.rcpt, "asks_again_while_in_progress": r.poll}
        for r in RECEIVERS
    }
    data["table_seconds"] = round(seconds, 1)
    for s in SCENARIOS:
        entry = data["scenarios"].setdefault(s.id, {})
        entry.update(sender=s.sender, what=s.what)
        replies = entry.setdefault("replies", {})
        for r in RECEIVERS:
            got = answers[(s.id, r.name)]
            cell = replies.setdefault(r.name, {"variants": []})
            variant = {"answer": got["answer"], "code": got["code"], "text": got["text"]}
            if all(
                masked(v["text"]) != masked(got["text"]) or v["code"] != got["code"] for v in cell["variants"]
            ):
                cell["variants"].append(variant)
            cell["tries"] = got["tries"]
            cell["seconds"] = got["seconds"]
    write_replies(DATA, data)


@pytest.fixture(scope="module")
def live(lab) -> dict:
    """(scenario id, receiver name) -> the live answer, every question asked at once."""
    t0 = time.monotonic()
    answers = lab.ask_receivers([(r.name, s.sender) for s, r in CELLS])
    table = {(s.id, r.name): a for (s, r), a in zip(CELLS, answers)}
    if os.environ.get("CCLAB_RECORD"):
        record(table, time.monotonic() - t0)
    return table


@pytest.mark.parametrize("scenario,receiver", CELLS, ids=[f"{s.id}-{r.name}" for s, r in CELLS])
def test_live_answer_is_as_designed(live, scenario, receiver):
    got = live[(scenario.id, receiver.name)]
    assert "error" not in got, got
    assert got["answer"] in scenario.designed(receiver.name).split("|"), (
        f"{receiver.name} answered {got['code']} {got['text']!r} for {scenario.sender}; "
        f"designed: {scenario.designed(receiver.name)}"
    )
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
        assert re.match(
            rf"4\.1\.7 <{re.escape(s.sender)}>: Sender address rejected: "
            r"unverified address: \S",
            got["text"],
        ), got


def test_postfix_was_polled_within_bounds(live):
    for s in SCENARIOS:
        got = live[(s.id, "postfix")]
        assert got["tries"] <= lab_module.POLL_TRIES, got
        assert got["seconds"] < lab_module.POLL_BUDGET + 5, got
        assert lab_module.IN_PROGRESS not in got["text"], got


def test_receivers_disagree_where_designed(live):
    """The scenarios added for the receivers' differences really split them."""
    for sid in (
        "null-sender-refused",
        "many-deferring-mx",
        "bounce-refused-at-rcpt",
        "catch-all-disabled",
        "no-postmaster",
        "seed",
        "tempfail",
    ):
        answers = {live[(sid, r.name)]["code"] // 100 for r in RECEIVERS}
        assert len(answers) > 1, {r.name: live[(sid, r.name)]["code"] for r in RECEIVERS}


# ---------------------------------------------------------------- predictions
EVERY = [a for r in RECEIVERS for a in ("--receiver", r.name)]
POSTFIX_FIRST = ["--receiver", "postfix", "--receiver", "exim"]
WORDS = {"accept": "accept", "defer": "defer", "reject": "reject", "unverified": "defer"}


def _check(scenario, receivers: list[str]):
    return run_plugin(
        "mon",
        "check_callout",
        "-s",
        scenario.sender,
        "--nameserver",
        DNS_V4,
        "--helo",
        "mon.test",
        "--postfix-sender",
        "mx.prx.test",
        "-t",
        "30",
        *receivers,
    )


@pytest.fixture(scope="module")
def predicted(lab) -> dict:
    """scenario id -> (run with every receiver, exim deciding; run with postfix deciding)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        every = {s.id: pool.submit(_check, s, EVERY) for s in SCENARIOS}
        postfix = {s.id: pool.submit(_check, s, POSTFIX_FIRST) for s in SCENARIOS}
        return {sid: (every[sid].result(), postfix[sid].result()) for sid in every}


def replies_of(run, receiver: str) -> list[tuple[int, str]]:
    """The replies check_callout predicts for ``receiver`` (several: it picks at random)."""
    lines = run.stdout.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith(f"  {receiver} would answer "):
            found.append(line.split(" would answer ", 1)[1])
            found += [more[len("    or ") :] for more in lines[i + 1 :] if more.startswith("    or ")]
            break
    return [(int(r[:3]), r[4:]) for r in found if r[:3].isdigit()]


@pytest.mark.parametrize("scenario,receiver", CELLS, ids=[f"{s.id}-{r.name}" for s, r in CELLS])
def test_prediction_equals_live_answer(live, predicted, scenario, receiver):
    got = live[(scenario.id, receiver.name)]
    run = predicted[scenario.id][0]
    replies = replies_of(run, receiver.name)
    assert replies, f"no '{receiver.name} would answer' line\n{run}"
    answers = [lab_module.answer_of(receiver.name, code, text.replace(" / ", "\n")) for code, text in replies]
    assert got["answer"] in answers, (
        f"{receiver.name} answered {got['code']} {got['text']!r}; predicted {replies}\n{run}"
    )
    code, text = replies[answers.index(got["answer"])]
    assert code == got["code"], (replies, got)
    if receiver.name == "postfix":
        assert masked(text) == masked(got["text"]), (text, got["text"])
    else:
        assert text.split(" / ")[-1] == got["text"].splitlines()[-1], (text, got["text"])


def actions_named(line: str, label: str) -> list[str]:
    """``a Postfix receiver would accept or defer (450 ...)`` -> ["accept", "defer"]."""
    if f"{label} would " not in line:
        return []
    rest = line.split(f"{label} would ", 1)[1]
    found = []
    while True:
        match = re.match(r"(accept|defer|reject)(?: \([^)]*\))?", rest)
        if not match:
            return found
        found.append(match.group(1))
        rest = rest[match.end() :]
        if not rest.startswith(" or "):
            return found
        rest = rest[4:]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_first_line_names_the_deciding_receivers_action(live, predicted, scenario):
    every, postfix_first = predicted[scenario.id]
    for run, receiver, label in (
        (every, "exim", "an Exim receiver"),
        (postfix_first, "postfix", "a Postfix receiver"),
    ):
        action = WORDS[live[(scenario.id, receiver)]["answer"]]
        named = actions_named(run.first_line, label)
        assert action in named, str(run)
        if len(named) > 1:  # it picks at random: predicted accept, with a warning
            assert named[0] == "accept" and run.returncode == 1, str(run)
        elif action == "accept":
            assert run.returncode in (0, 1), str(run)
        else:
            assert run.returncode == 2, str(run)
    # when one live receiver takes the mail and another does not, the first line says so
    for run, names in ((every, [r.name for r in RECEIVERS]), (postfix_first, ["postfix", "exim"])):
        takes = {live[(scenario.id, n)]["answer"] == "accept" for n in names}
        if len(takes) > 1:
            assert "receivers disagree" in run.first_line, str(run)

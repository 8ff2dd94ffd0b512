"""check_callout's strict receivers against the live ones.

For every strict scenario, check_callout runs in the lab (cclab-mon, the lab DNS) with
``--client-ip`` (the scenario's address) and ``--helo-name`` (its HELO name) and both
strict profiles (``--receiver exim:strict --receiver postfix:strict``: each prediction is
``check_callout.senders.strict_predictions`` over the sender checks and the callout).
Each profile's ``would answer CODE TEXT`` line must equal the live receiver's first
refusal (the EHLO reply when EHLO was refused) or its RCPT reply: the same code, and
the same words once the recipient (which check_callout cannot know) is masked and the
lines of a multi-line reply are joined; where Exim's callout decided, its last line
("Sender verify failed"), as tests/lab/test_lab_receivers.py compares the exim profile.
A prediction check_callout marks "cannot tell" must still name the live code and text.
The first line must carry the state the deciding receiver (exim:strict) gives and, for
a refusal, its reply code.

``KNOWN_WRONG`` lists the cells where the prediction differs from the live receiver
(strict xfail: fixing one makes its test fail until it is taken off the list).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lab.conftest import run_plugin
from tests.lab.strict_data import CELLS, STRICT_SCENARIOS

DNS = "192.0.2.53"
#: concurrent check_callout runs (the machine is small; each run waits mostly on DNS)
WORKERS = 8
CANNOT_TELL = " while its lookup fails (cannot tell)"

#: (scenario, receiver or "state") -> what the live receiver does that the prediction misses
KNOWN_WRONG: dict[tuple[str, str], str] = {}


def known_wrong(scenario_id: str, what: str) -> list:
    reason = KNOWN_WRONG.get((scenario_id, what))
    return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []


def normal(text: str) -> str:
    """A reply's words: lines joined, the recipient (unknown to check_callout) masked."""
    text = " ".join(text.replace(" / ", "\n").split())
    text = re.sub(r"<[^<>@\s]+@(?:psx|esx)\.test>|<recipient@receiver>", "<RCPT>", text)
    return re.sub(r";r=[^;\s]*$", ";r=RCPT", text)


def argv_for(scenario) -> list[str]:
    return [
        "-s",
        scenario.sender or "<>",
        "--client-ip",
        scenario.addr,
        "--helo-name",
        scenario.helo_name,
        "--nameserver",
        DNS,
        "--helo",
        "mon.test",
        "--receiver",
        "exim:strict",
        "--receiver",
        "postfix:strict",
        "-t",
        "40",
    ]


@pytest.fixture(scope="module")
def predicted(lab) -> dict:
    """scenario id -> check_callout's run."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = {s.id: pool.submit(run_plugin, "mon", "check_callout", *argv_for(s)) for s in STRICT_SCENARIOS}
        return {sid: f.result() for sid, f in runs.items()}


def prediction_line(run, receiver: str) -> tuple[int, str] | None:
    m = re.search(rf"^\s+{re.escape(receiver)} would answer (\d{{3}}) ?(.*)$", run.stdout, re.M)
    return (int(m[1]), m[2]) if m else None


def first_refusal(live: dict) -> tuple[int, str]:
    """The live receiver's answer to compare: the EHLO refusal if EHLO was refused."""
    if live.get("ehlo"):
        return live["ehlo"][0], live["ehlo"][1]
    return live["code"], live["text"]


@pytest.mark.parametrize(
    "scenario,receiver",
    [pytest.param(s, r, marks=known_wrong(s.id, r.name)) for s, r in CELLS],
    ids=[f"{s.id}-{r.name}" for s, r in CELLS],
)
def test_prediction_equals_live_answer(predicted, strict_live, scenario, receiver):
    run = predicted[scenario.id]
    code, text = first_refusal(strict_live[(scenario.id, receiver.name)])
    got = prediction_line(run, receiver.name)
    assert got is not None, str(run)
    said = got[1].removesuffix(CANNOT_TELL)
    assert got[0] == code, f"predicted {got}, live {code} {text!r}\n{run}"
    if receiver.name == "exim:strict" and text.endswith("Sender verify failed"):
        said, text = said.split(" / ")[-1], text.splitlines()[-1]
    assert normal(said) == normal(text), f"predicted {got}, live {text!r}\n{run}"


def expected_state(scenario_id: str, strict_live: dict) -> set[str]:
    exim = strict_live[(scenario_id, "exim:strict")]["code"] // 100
    postfix = strict_live[(scenario_id, "postfix:strict")]["code"] // 100
    if exim != 2:
        # a refusal; a defer that hangs on a lookup that failed is "cannot tell"
        return {"CRITICAL"} if exim == 5 else {"CRITICAL", "UNKNOWN"}
    return {"WARNING"} if postfix != 2 else {"OK", "WARNING"}


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, marks=known_wrong(s.id, "state")) for s in STRICT_SCENARIOS],
    ids=[s.id for s in STRICT_SCENARIOS],
)
def test_state_and_first_line(predicted, strict_live, scenario):
    run = predicted[scenario.id]
    state = run.first_line.split(" ", 2)[1] if " " in run.first_line else ""
    assert state in expected_state(scenario.id, strict_live), str(run)
    assert run.returncode == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state], str(run)
    exim = strict_live[(scenario.id, "exim:strict")]
    if exim["code"] // 100 != 2:
        assert str(exim["code"]) in run.first_line, str(run)


#: the words of the check that decides exim:strict's refusal, as the first line names it
FAILING_CHECK = {
    "spf-fail": "SPF",
    "spf-long": "SPF",
    "spf-servfail": "SPF",
    "spf-timeout": "SPF",
    "story": "SPF",
    "bounce-helo-spf-fail": "SPF",
    "helo-short": "HELO",
    "helo-localhost": "HELO",
    "helo-no-address": "HELO",
    "helo-other-host": "HELO",
    "helo-underscore": "HELO",
    "ptr-missing": "PTR",
    "ptr-not-confirmed": "PTR",
    "ptr-loop": "PTR",
}


@pytest.mark.parametrize(
    "scenario_id",
    [pytest.param(sid, marks=known_wrong(sid, "exim:strict")) for sid in FAILING_CHECK],
)
def test_first_line_names_the_failing_check(predicted, strict_live, scenario_id):
    run = predicted[scenario_id]
    assert strict_live[(scenario_id, "exim:strict")]["code"] // 100 != 2
    summary = run.first_line.split(" - ", 1)[1].split(";")[0]
    assert FAILING_CHECK[scenario_id] in summary, str(run)

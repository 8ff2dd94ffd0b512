"""check_callout --client-ip predicts the lab's strict receivers, through the lab's DNS.

For every strict scenario (contrib/lab/lab/strict_scenarios.py), check_callout runs in
the monitoring namespace with the scenario's client address, HELO name and sender,
asking the lab's dnsmasq (its SPF, PTR and HELO data, and the fault servers behind
it), and probing the scenario MX host by callout.  Each strict receiver's predicted
reply (the ``  NAME would answer CODE TEXT`` line) must be the live one recorded in
tests/data/receivers/strict-live-replies.json: the answer, the code, the text (the
recipient stands in as ``recipient@receiver``).  A "cannot tell" prediction names what
its receiver answers while the lookup fails.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lab import DNS_V4, STRICT_SCENARIOS

from tests.lab.conftest import run_plugin

DATA = Path(__file__).resolve().parents[1] / "data" / "receivers" / "strict-live-replies.json"
LIVE = json.loads(DATA.read_text())
RECEIVERS = ("exim:strict", "postfix:strict")
CELLS = [(s, r) for s in STRICT_SCENARIOS for r in RECEIVERS]
CANNOT_TELL = " while its lookup fails (cannot tell)"


def _check(scenario):
    sender = scenario.sender or "<>"
    return run_plugin(
        "mon",  # the checks are DNS questions: any namespace of the lab asks the same
        "check_callout",
        "-s",
        sender,
        "--client-ip",
        scenario.addr,
        "--helo-name",
        scenario.helo_name,
        "--nameserver",
        DNS_V4,
        "--helo",
        "mon.test",
        "-t",
        "30",
    )


@pytest.fixture(scope="module")
def predicted(lab) -> dict:
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {s.id: pool.submit(_check, s) for s in STRICT_SCENARIOS}
        return {sid: run.result() for sid, run in runs.items()}


def reply_of(run, receiver: str) -> tuple[int, str, bool]:
    line = next((x for x in run.stdout.splitlines() if x.startswith(f"  {receiver} would answer ")), "")
    assert line, f"no '{receiver} would answer' line\n{run}"
    reply = line.split(" would answer ", 1)[1]
    blind = reply.endswith(CANNOT_TELL)
    reply = reply.removesuffix(CANNOT_TELL)
    return int(reply[:3]), reply[4:], blind


@pytest.mark.parametrize("scenario,receiver", CELLS, ids=[f"{s.id}-{r}" for s, r in CELLS])
def test_prediction_equals_live_answer(predicted, scenario, receiver):
    run = predicted[scenario.id]
    assert run.returncode in (0, 1, 2, 3), run
    code, text, _blind = reply_of(run, receiver)
    rcpt_domain = LIVE["receivers"][receiver]["rcpt_domain"]
    text = text.replace("recipient@receiver", f"{scenario.id}@{rcpt_domain}").replace(
        "r=receiver", f"r={rcpt_domain}"
    )
    live = []
    for variant in LIVE["scenarios"][scenario.id]["replies"][receiver]["variants"]:
        said = variant["ehlo"] if variant["stage"] == "helo" else (variant["code"], variant["text"])
        live.append((said[0], " / ".join(said[1].splitlines())))
    assert (code, text) in live, f"{receiver}: predicted {code} {text!r}, live {live}\n{run}"

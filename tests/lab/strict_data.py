"""The strict receivers' live table: asking it once per test session, and its stored copy
``tests/data/receivers/strict-live-replies.json`` (``CCLAB_RECORD=1`` merges what is seen)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.support.lab import load_lab, read_replies, write_replies

lab_module = load_lab()
STRICT_RECEIVERS = lab_module.STRICT_RECEIVERS
STRICT_SCENARIOS = lab_module.STRICT_SCENARIOS

DATA = Path(__file__).resolve().parents[1] / "data" / "receivers" / "strict-live-replies.json"
CELLS = [(s, r) for s in STRICT_SCENARIOS for r in STRICT_RECEIVERS]
#: the whole table's wall time at most (the slowest cell: policyd-spf waiting for a
#: silent DNS server, about 25 s)
TABLE_BUDGET = 45.0


def stored() -> dict:
    return read_replies(DATA)


def reply_of(got: dict) -> dict:
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
            if reply_of(got) not in cell["variants"]:
                cell["variants"].append(reply_of(got))
            cell["seconds"] = got["seconds"]
    write_replies(DATA, data)


def ask_live(lab) -> dict:
    """(scenario id, receiver name) -> the live answer, every question asked at once;
    ``"seconds"`` -> the wall time of the whole table."""
    t0 = time.monotonic()
    answers = lab.ask_strict_receivers([(r.name, s.id) for s, r in CELLS])
    seconds = time.monotonic() - t0
    table = {(s.id, r.name): a for (s, r), a in zip(CELLS, answers)}
    table["seconds"] = seconds
    if os.environ.get("CCLAB_RECORD"):
        record(table, seconds)
    return table

"""Queue parsers on output captured from the real programs (Postfix 3.7 ``postqueue -j``,
Exim 4.96 ``exim -bp`` and ``exim -Mvl``), and spool trees written here."""

from __future__ import annotations

import os
import time

import pytest

from check_nullmailer import host, mta
from check_nullmailer.mta import base, exim_queue, postfix_queue

DATA = os.path.join(os.path.dirname(__file__), "data", "nullmailer")


def data(name: str) -> str:
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return handle.read()


def test_postqueue_json_captured():
    text = data("postqueue-j.jsonl")
    arrival = 1795784399
    messages, bad = postfix_queue.parse_postqueue_json(text, now=arrival + 7200)
    assert bad == 0
    assert len(messages) == 7
    assert {m.queue for m in messages} == {"deferred", "hold"}
    report = base.summarize(messages, "postqueue -j")
    assert report.deferred == 6  # the held message is not deferred
    assert report.callout_deferred == 3  # two single-recipient messages and one of two recipients
    assert 7190 <= report.oldest_deferred <= 7200
    assert report.oldest_callout == pytest.approx(7200)
    assert all("Could not complete sender verify callout" in e for e in report.examples)


def test_postqueue_json_is_robust():
    text = (
        '{"queue_name": "deferred", "queue_id": "A1", "arrival_time": "x", "sender": "a@b"}\n'
        "not json\n[1,2]\n\n"
        '{"queue_name": "deferred", "queue_id": "A2", "recipients": [{"address": "r@x", '
        '"delay_reason": "450 4.1.7 <a@b>: Sender address rejected: unverified address: timeout"}]}\n'
    )
    messages, bad = postfix_queue.parse_postqueue_json(text, now=0)
    assert bad == 2
    report = base.summarize(messages, "t")
    assert (report.deferred, report.callout_deferred) == (2, 1)
    assert postfix_queue.parse_postqueue_json("", now=0) == ([], 0)  # an empty queue prints nothing


def test_exim_bp_captured():
    messages = exim_queue.parse_exim_bp(data("exim-bp.txt"))
    assert [m.queue_id for m in messages] == [
        "1xWvZ0-0001Zx-0E",
        "1xWvZ0-0001a0-0G",
        "1xWvZ0-0001a3-0H",
        "1xWvZ0-0001a6-0J",
    ]
    assert messages[3].sender == "" and messages[3].frozen
    assert messages[0].sender == "user@web2.example.com" and messages[0].age == 180


@pytest.mark.parametrize(
    "text,seconds", [("0m", 0), ("45s", 45), ("25m", 1500), ("3h", 10800), ("2d", 172800), ("x", None)]
)
def test_exim_ages(text, seconds):
    assert exim_queue.parse_exim_age(text) == seconds


def test_exim_msglog_captured():
    reasons = exim_queue.parse_exim_msglog(data("exim-Mvl-1xWvZ0-0001a3-0H.txt"))
    # the latest deferral per recipient wins over the earlier "local host" one
    assert "Could not complete sender verify callout" in reasons["callout2@rx.example.org"]
    assert "Temporary local problem" in reasons["ok@rx.example.net"]
    grey = exim_queue.parse_exim_msglog(data("exim-Mvl-1xWvZ0-0001a0-0G.txt"))
    assert "Greylisted" in grey["grey@rx.example.net"]


def test_exim_summary_from_captured_texts():
    messages = exim_queue.parse_exim_bp(data("exim-bp.txt"))
    for msg in messages:
        msg.reasons = list(exim_queue.parse_exim_msglog(data(f"exim-Mvl-{msg.queue_id}.txt")).values())
        msg.queue = "deferred"
    report = base.summarize(messages, "exim -bp")
    assert (report.deferred, report.callout_deferred) == (4, 2)


def test_callout_words():
    for text in (
        "451 Could not complete sender verify callout",
        "550-Verification failed for <www-data@web1.example.com>",
        "450 4.1.7 <x@y>: Sender address rejected: unverified address: host z said: 550",
        "451 4.7.1 Sender verify defer",
    ):
        assert base.CALLOUT_RE.search(text), text
    assert not base.CALLOUT_RE.search("450 4.2.0 Recipient address rejected: Greylisted")


def test_nullmailer_spool(tmp_path):
    spool = tmp_path / "var" / "spool" / "nullmailer"
    (spool / "queue").mkdir(parents=True)
    (spool / "failed").mkdir()
    old = spool / "queue" / "1795780000.1234"
    old.write_text("www-data@web1.example.com\nuser@rx.example.net\n\nSubject: x\n\nbody\n")
    past = time.time() - 3600
    os.utime(old, (past, past))
    (spool / "queue" / "1795784000.99").write_text("root@web1.example.com\nops@example.org\n\nx\n")
    (spool / "failed" / "1795700000.1").write_text("a@b\nc@d\n\nx\n")
    report = mta.read_queue("nullmailer", str(tmp_path))
    assert report.messages == 2 and report.deferred == 1
    assert report.callout_deferred is None  # nullmailer keeps no reasons
    assert report.oldest_deferred >= 3590
    assert any("failed" in note for note in report.notes)


def test_dma_spool(tmp_path):
    spool = tmp_path / "var" / "spool" / "dma"
    spool.mkdir(parents=True)
    qf = spool / "Qabc123"
    qf.write_text("ID: abc123\nSender: user@web1.example.com\nRecipient: x@example.org\n")
    (spool / "Mabc123").write_text("Subject: x\n\n")
    past = time.time() - 600
    os.utime(qf, (past, past))
    report = mta.read_queue("dma", str(tmp_path))
    assert (report.messages, report.deferred, report.callout_deferred) == (1, 1, None)


def test_missing_spools_and_unsupported(tmp_path):
    with pytest.raises(base.QueueUnavailable):
        mta.read_queue("nullmailer", str(tmp_path))
    with pytest.raises(base.QueueUnavailable):
        mta.read_queue("opensmtpd", str(tmp_path))
    with pytest.raises(base.QueueUnavailable):
        mta.read_queue("exim", str(tmp_path))  # another root without --exim-config
    report = mta.read_queue("msmtp", str(tmp_path))
    assert report.deferred == 0 and "no queue" in report.notes[0]


def test_postfix_queue_of_a_missing_instance(tmp_path):
    if not host.find_tool(("postqueue",)):
        with pytest.raises(base.QueueUnavailable, match="not found"):
            mta.read_queue("postfix", str(tmp_path))
        return
    with pytest.raises(base.QueueUnavailable):
        mta.read_queue("postfix", str(tmp_path), postfix_config=str(tmp_path))


def test_exim_bp_streamed_as_exim_lists_it():
    """The streamed reader knows every line Exim 4.96 printed: messages, recipients
    (a quoted local part with a space), frozen ones, and a message whose spool header
    Exim cannot read (its id, then '*** spool format error: size=60 ***')."""
    for name, count, broken in (("exim-bp.txt", 4, []), ("exim-bp-spool-error.txt", 3, ["1xYzxX-0000ZZ-1L"])):
        listing = exim_queue.BpListing()
        for line in data(name).split("\n"):
            assert not listing.line(line, True), line
        assert (listing.count, listing.broken, listing.unknown) == (count, broken, None)
    listing = exim_queue.BpListing()
    assert listing.line("    *** spool format error: size=60 ***", True)  # not below a message
    assert listing.unknown is not None


def test_postqueue_json_line_cut_read_from_the_part_kept():
    """A message of Postfix 3.7's postqueue -j (field order as captured) with thousands
    of recipients, cut at the reader's 64 KiB line limit: counted, reasons from the part kept."""
    import json

    item = json.loads(data("postqueue-j.jsonl").splitlines()[0])
    item["recipients"] = item["recipients"] * 3000
    line = json.dumps(item)
    assert len(line) > 4 * host.MAX_LINE
    msg = postfix_queue.parse_cut_line(line[: host.MAX_LINE], now=item["arrival_time"] + 60)
    assert msg is not None
    assert (msg.queue_id, msg.queue, msg.sender, msg.age) == ("5F78C1601D6", "deferred", item["sender"], 60)
    assert msg.callout and 100 < len(msg.reasons) < 3000
    assert postfix_queue.parse_cut_line('{"recipients": [{"address": "a@b"', now=0) is None

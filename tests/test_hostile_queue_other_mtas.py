"""The send-only MTAs' queue readers against listings they do not understand and spools
larger than the reader's cap (issue 17, class 2): fake ``smtpctl``, ``mailq`` and ``dma``
programs first in PATH (real processes), spools written here.

A listing that does not parse is "could not read the queue" (a CouldNotRead, judged
WARNING); a spool read only up to the cap gives lower bounds ("at least").
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nagiosplugin
import pytest

from check_callout.kit.files import CouldNotRead
from check_nullmailer import mta
from check_nullmailer.local import QueueUnread
from check_nullmailer.local_judge import QueueUnreadContext
from check_nullmailer.mta import dma, nullmailer, opensmtpd, spool
from check_nullmailer.mta.base import QueueUnreadable
from tests.support.hostile import measure
from tests.support.processes import fake_tool, plugin_env

ENVELOPE = (
    "3a212950e8316a65|local|mta|auth|www-data@web1.example.test|someone@dest.test|someone@dest.test"
    "|1796179932|1796179932|0|1|pending|400|451 Could not complete sender verify callout\n"
)
CLOSED = PermissionError(13, "Permission denied")


def printing(text: str) -> str:
    quoted = text.replace("'", "'\\''")
    return f"#!/bin/sh\nprintf '%s' '{quoted}'\n"


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of fake tools first in PATH (the readers look there first)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    return directory


def judged(exc: QueueUnreadable) -> nagiosplugin.state.ServiceState:
    assert isinstance(exc, CouldNotRead)
    unread = QueueUnread(str(exc), isinstance(exc, CouldNotRead))
    return QueueUnreadContext().evaluate(nagiosplugin.Metric("queue", unread), None).state


@pytest.mark.parametrize(
    "listing",
    [
        "smtpctl: unknown command\n",
        ENVELOPE + "a line of something else\n",
        ENVELOPE.replace("|1796179932|1796179932|", "|soon|never|"),
    ],
)
def test_smtpctl_show_queue_that_does_not_parse(tools: Path, listing: str) -> None:
    fake_tool(tools, "smtpctl", printing(listing))
    with pytest.raises(QueueUnreadable, match="smtpctl show queue printed a line in no known format") as err:
        opensmtpd.read_queue("/", time.monotonic() + 5)
    assert judged(err.value) == nagiosplugin.Warn


def test_smtpctl_show_queue_read_whole(tools: Path) -> None:
    fake_tool(tools, "smtpctl", printing(ENVELOPE))
    report = opensmtpd.read_queue("/", time.monotonic() + 5)
    assert (report.messages, report.deferred, report.callout_deferred, report.capped) == (1, 1, 1, False)


MAILQ_LINE = "2026-12-02 02:52:12 324 bytes from <www-data@web1.example.test>\n  to <someone@dest.test>\n"


@pytest.mark.parametrize(
    "listing",
    [MAILQ_LINE + "mailq: could not open a message file\n", "something\n" + MAILQ_LINE],
)
def test_nullmailer_mailq_that_does_not_parse(tools: Path, tmp_path: Path, listing: str) -> None:
    fake_tool(tools, "mailq", printing(listing))
    with pytest.raises(QueueUnreadable, match="printed a line in no known format") as err:
        nullmailer._queue_by_mailq(str(tmp_path / "queue"), CLOSED, time.monotonic() + 5)
    assert judged(err.value) == nagiosplugin.Warn


def test_nullmailer_mailq_read_whole(tools: Path, tmp_path: Path) -> None:
    fake_tool(tools, "mailq", printing(MAILQ_LINE + MAILQ_LINE))
    report = nullmailer._queue_by_mailq(str(tmp_path / "queue"), CLOSED, time.monotonic() + 5)
    assert (report.messages, report.deferred, report.capped) == (2, 2, False)


DMA_ENTRY = "ID\t: 21.558b5b6deb30\nFrom\t: www-data@web1.example.test\nTo\t: someone@dest.test\n"


@pytest.mark.parametrize("listing", [DMA_ENTRY + "dma: cannot lock a queue file\n", "?\n" + DMA_ENTRY])
def test_dma_bp_that_does_not_parse(tools: Path, tmp_path: Path, listing: str) -> None:
    fake_tool(tools, "dma", printing(listing))
    with pytest.raises(QueueUnreadable, match="-bp printed a line in no known format") as err:
        dma._queue_by_mailq(str(tmp_path / "dma"), CLOSED, time.monotonic() + 5)
    assert judged(err.value) == nagiosplugin.Warn


def test_dma_bp_read_whole(tools: Path, tmp_path: Path) -> None:
    fake_tool(tools, "dma", printing(DMA_ENTRY + "--\n" + DMA_ENTRY.replace("21.5", "22.5")))
    report = dma._queue_by_mailq(str(tmp_path / "dma"), CLOSED, time.monotonic() + 5)
    assert (report.messages, report.deferred) == (2, 2)


def test_spools_larger_than_the_cap_are_lower_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, the spool readers stopped at the cap and printed an exact-looking count."""
    monkeypatch.setattr(spool, "MAX_MESSAGES", 5)
    queue = tmp_path / "var" / "spool" / "nullmailer" / "queue"
    queue.mkdir(parents=True)
    dma_spool = tmp_path / "var" / "spool" / "dma"
    dma_spool.mkdir(parents=True)
    for number in range(8):
        (queue / f"17957800{number:02d}.1").write_text(
            "www-data@web1.example.test\nuser@rx.example.net\n\nx\n"
        )
        (dma_spool / f"Q{number:04d}").write_text("ID: x\nSender: www-data@web1.example.test\n")
        (dma_spool / f"M{number:04d}").write_text("Subject: x\n\n")
    for name in ("nullmailer", "dma"):
        report = mta.read_queue(name, str(tmp_path))
        assert report.capped, (name, report)
        assert any("reading stopped after 5 entries (at least that many)" in note for note in report.notes)


# a million envelopes as smtpctl show queue lists them (awk: no Python start-up)
SMTPCTL_MILLION = r"""#!/bin/sh
exec awk -v n=1000000 'BEGIN {
  for (i = 0; i < n; i++)
    printf "%08x%08x|local|mta|auth|www-data@web1.example.test|someone@dest.test|someone@dest.test" \
      "|1796179932|1796179932|0|1|pending|400|451 Could not complete sender verify callout\n", i, i
}'
"""


def test_a_million_opensmtpd_envelopes_are_streamed_and_capped(tmp_path: Path) -> None:
    """Before: read whole (peak RSS 508 MiB) and cut at a line cap printed as an exact
    "400000 deferred messages"."""
    fake_tool(tmp_path / "bin", "smtpctl", SMTPCTL_MILLION)
    env = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    argv = [sys.executable, "-m", "check_nullmailer.plugin", "--local", "--mta", "opensmtpd", "-t", "30"]
    run = measure(argv, 90, env=env)
    assert "at least 100000 deferred messages in the queue" in run.stdout.split("\n", 1)[0], run
    assert "smtpctl show queue: reading stopped after 100000 messages (at least that many)" in run.stdout, run
    assert run.maxrss_kb < 100 * 1024, f"peak RSS {run.maxrss_kb} KiB"


# a million messages as nullmailer's mailq and dma -bp list them
MAILQ_MILLION = r"""#!/bin/sh
exec awk -v n=1000000 'BEGIN {
  for (i = 0; i < n; i++)
    printf "2026-12-02 02:52:12 324 bytes from <www-data@web1.example.test>\n  to <u%d@dest.test>\n", i
}'
"""
DMA_MILLION = r"""#!/bin/sh
exec awk -v n=1000000 'BEGIN {
  for (i = 0; i < n; i++)
    printf "ID\t: %d.558b5b6deb30\nFrom\t: www-data@web1.example.test\nTo\t: u%d@dest.test\n--\n", i, i
}'
"""
READ_CLOSED = (
    "import sys, time\nfrom check_nullmailer.mta import {module}\n"
    "report = {module}._queue_by_mailq('/var/spool/closed', PermissionError(13, 'Permission denied'), "
    "time.monotonic() + 30)\nprint(report.messages, report.deferred, report.capped, report.notes[0])\n"
)


@pytest.mark.parametrize(
    "module, tool, script", [("nullmailer", "mailq", MAILQ_MILLION), ("dma", "dma", DMA_MILLION)]
)
def test_a_million_messages_listed_by_the_mtas_own_tool_are_streamed(tmp_path, module, tool, script) -> None:
    """The spool closed to the monitoring user, its queue read through the MTA's own
    set-id listing: before, read whole (hundreds of MiB) and counted up to the cap as an
    exact number."""
    fake_tool(tmp_path / "bin", tool, script)
    env = plugin_env(PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    run = measure([sys.executable, "-c", READ_CLOSED.format(module=module)], 90, env=env)
    assert run.code == 0, run
    assert run.stdout.startswith("100000 100000 True "), run
    assert "reading stopped after 100000 messages (at least that many)" in run.stdout, run
    assert run.maxrss_kb < 100 * 1024, f"peak RSS {run.maxrss_kb} KiB"

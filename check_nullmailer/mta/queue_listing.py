"""Reading an MTA's queue-listing tool (``postqueue -j``, ``exim -bp``, ``smtpctl show
queue``, nullmailer's ``mailq``) as it streams, and telling whether the listing was
read whole: a tool that cannot be run, hangs, is refused, fails or prints a line in no
known format leaves the queue "could not read" (:class:`QueueUnreadable`), never empty."""

from __future__ import annotations

import subprocess

from check_callout.kit.text import sanitize
from check_nullmailer.access import sudo_refusal
from check_nullmailer.host import stream_lines
from check_nullmailer.mta.base import QueueReport, QueueUnreadable

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable

    from check_nullmailer.host import Streamed


def stream_listing(
    argv: list[str],
    shown: str,
    on_line: Callable[[str, bool], bool | None],
    max_lines: int,
    deadline: float | None,
    sudo: bool = False,
) -> Streamed:
    """:func:`~check_nullmailer.host.stream_lines` for the listing ``shown`` (``exim
    -bp``); a tool that hangs past ``deadline`` or cannot be run is QueueUnreadable."""
    try:
        return stream_lines(argv, deadline, on_line, max_lines, sudo)
    except subprocess.TimeoutExpired:
        raise QueueUnreadable(f"{shown} did not answer in time") from None
    except OSError as exc:
        raise QueueUnreadable(f"{shown.split()[0]}: {exc.strerror or exc}") from None


def check_read_whole(
    done: Streamed,
    shown: str,
    unknown: str | None,
    count: int,
    refused: re.Pattern[str],
    advice: Callable[[str], str],
) -> None:
    """Raise QueueUnreadable unless the listing ``shown`` was read whole: a tool that
    failed before listing anything (refused: its stderr matches ``refused`` or is
    sudo's refusal, then ``advice(stderr)`` says what to do), a line in no known format
    (``unknown``), or a tool that failed after listing ``count`` messages."""
    err = done.stderr
    if done.returncode not in (0, None) and not done.lines:
        if sudo_refusal(err) or refused.search(err):
            raise QueueUnreadable(sanitize(advice(err), 300))
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {done.returncode}"
        raise QueueUnreadable(f"{shown}: {sanitize(last, 160)}")
    if unknown is not None:
        raise QueueUnreadable(f"{shown} printed a line in no known format: {sanitize(unknown, 80)!r}")
    if done.returncode not in (0, None):
        last = err.strip().splitlines()[-1] if err.strip() else "no message"
        raise QueueUnreadable(
            f"{shown} failed (exit status {done.returncode}) after listing "
            f"{count} messages: {sanitize(last, 160)}"
        )


def note_capped(report: QueueReport, shown: str, count: int) -> None:
    """The listing was stopped after ``count`` messages: the counts are lower bounds."""
    report.capped = True
    report.notes.append(f"{shown}: reading stopped after {count} messages (at least that many)")

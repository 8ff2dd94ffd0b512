"""Spool directories of the send-only MTAs (one file per message)."""

from __future__ import annotations

import os
import time

from check_nullmailer.mta.base import MAX_MESSAGES, QueueReport

STUCK_AFTER = 60.0  # a queue file older than this has been deferred


def spool_files(path: str, prefix: str = "") -> tuple[list[tuple[str, float]], bool]:
    """The message files in ``path`` (name starting with ``prefix``) and their ages, and
    whether the reading stopped at :data:`MAX_MESSAGES` directory entries (then there
    are at least that many: the counts are lower bounds)."""
    now = time.time()
    found: list[tuple[str, float]] = []
    capped = False
    with os.scandir(path) as entries:
        for count, entry in enumerate(entries):
            if count >= MAX_MESSAGES:
                capped = True
                break
            if entry.name.startswith(prefix) and not entry.name.startswith(".") and entry.is_file():
                found.append((entry.path, max(0.0, now - entry.stat().st_mtime)))
    return found, capped


def mark_capped(report: QueueReport, path: str, capped: bool) -> None:
    """Say that the spool was read only up to the cap: the counts are lower bounds."""
    if capped:
        report.capped = True
        report.notes.append(f"{path}: reading stopped after {MAX_MESSAGES} entries (at least that many)")


def head(path: str, limit: int = 4096) -> str:
    """The start of a queue file (its envelope and headers): only the start is needed,
    so a longer file is read in part by design; "" when it cannot be read (the message
    is still counted, its sender unknown)."""
    from check_callout.kit.files import CouldNotRead, read_text

    try:
        return read_text(path, limit=limit, prefix=True)
    except CouldNotRead:
        return ""

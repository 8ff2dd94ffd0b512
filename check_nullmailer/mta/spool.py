"""Spool directories of the send-only MTAs (one file per message)."""

from __future__ import annotations

import os
import time

from check_nullmailer.mta.base import MAX_MESSAGES

STUCK_AFTER = 60.0  # a queue file older than this has been deferred


def spool_files(path: str, prefix: str = "") -> list[tuple[str, float]]:
    now = time.time()
    found: list[tuple[str, float]] = []
    with os.scandir(path) as entries:
        for count, entry in enumerate(entries):
            if count >= MAX_MESSAGES:
                break
            if entry.name.startswith(prefix) and not entry.name.startswith(".") and entry.is_file():
                found.append((entry.path, max(0.0, now - entry.stat().st_mtime)))
    return found


def head(path: str, limit: int = 4096) -> str:
    """The start of a queue file (its envelope and headers): only the start is needed,
    so a longer file is read in part by design; "" when it cannot be read (the message
    is still counted, its sender unknown)."""
    from check_callout.kit.files import CouldNotRead, read_text

    try:
        return read_text(path, limit=limit, prefix=True)
    except CouldNotRead:
        return ""

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
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return ""

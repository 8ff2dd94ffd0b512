"""Tests that need root and Debian packages skip with a one-line reason on a developer's
machine, and fail under CI (``CI`` set), where a missing prerequisite is an error."""

from __future__ import annotations

import os

import pytest

UNDER_CI = bool(os.environ.get("CI"))


def require(ok: bool, reason: str) -> None:
    """Skip (or, under CI, fail) the calling test or fixture unless ``ok``."""
    if ok:
        return
    if UNDER_CI:
        pytest.fail(f"missing prerequisite under CI: {reason}")
    pytest.skip(reason)

"""Every lookup is bounded by the deadline, the host's own name included (issue 13,
item 5): with the system resolver hanging, the default EHLO name (``getfqdn()``) used to
block ~10 s before the first connect.  The host's name has no dot, so the lookup is
really made, against a name server that never answers, in throwaway namespaces."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.support.ci import require
from tests.support.processes import run_with_hanging_resolver

T = 3


@pytest.fixture(scope="module")
def namespaces():
    require(os.geteuid() == 0 and shutil.which("unshare") is not None, "needs root and unshare")
    require(shutil.which("ip") is not None, "needs iproute2")


@pytest.mark.parametrize(
    "plugin, args",
    [
        ("check_callout.plugin", ["-s", "a@example.test", "-H", "127.0.0.1", "-p", "9"]),
        ("check_nullmailer.plugin", ["-H", "127.0.0.1", "--ports", "9"]),
    ],
    ids=["callout", "nullmailer"],
)
def test_own_name_lookup_is_bounded(namespaces, tmp_path, plugin, args):
    done, took = run_with_hanging_resolver(
        tmp_path, [sys.executable, "-m", plugin, *args, "-t", str(T), "-vv"]
    )
    out = done.stdout.decode()
    assert done.returncode in (0, 2), (out, done.stderr)  # refused: judged, not an internal error
    assert "Timeout" not in out and "internal error" not in out, out
    assert took < T + 1.5, f"took {took:.1f} s with -t {T}: {out}"

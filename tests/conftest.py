"""Fixtures shared by the unit tests: run a plugin in-process and capture its output."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from tests.support.output import PluginOutput as PluginRun


def run_main(main, args: list[str]) -> PluginRun:
    out = io.StringIO()
    code = 0
    with redirect_stdout(out):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 3
    return PluginRun(code, out.getvalue())


@pytest.fixture
def callout():
    from check_callout.plugin import main

    def run(*args: str) -> PluginRun:
        return run_main(main, list(args))

    return run

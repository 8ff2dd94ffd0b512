"""Fixtures shared by the unit tests: run a plugin in-process and capture its output."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@dataclass
class PluginRun:
    code: int
    output: str

    @property
    def first_line(self) -> str:
        return self.output.splitlines()[0] if self.output else ""

    @property
    def perfdata(self) -> dict[str, str]:
        _, _, perf = self.first_line.partition(" | ")
        items = {}
        for item in perf.split():
            label, _, value = item.partition("=")
            items[label.strip("'")] = value
        return items


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

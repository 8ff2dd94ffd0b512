"""The one parser of plugin output: ``NAME STATE - summary | perfdata`` and the long
output below it."""

from __future__ import annotations

import re
from dataclasses import dataclass

STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
FIRST_LINE = re.compile(
    r"^(?P<name>[A-Z_]+) (?P<state>OK|WARNING|CRITICAL|UNKNOWN) - (?P<summary>.*?)"
    r"(?: \| (?P<perfdata>.*))?$"
)


@dataclass
class PluginOutput:
    """A plugin's exit code and output, parsed."""

    code: int
    output: str

    @property
    def first_line(self) -> str:
        return self.output.splitlines()[0] if self.output else ""

    @property
    def long_output(self) -> list[str]:
        return self.output.splitlines()[1:]

    @property
    def summary(self) -> str:
        match = FIRST_LINE.match(self.first_line)
        return match.group("summary") if match else ""

    @property
    def perfdata(self) -> dict[str, str]:
        """``label -> value[;warn;crit;min;max]`` of the first line."""
        _, _, perf = self.first_line.partition(" | ")
        items = {}
        for item in perf.split():
            label, _, value = item.partition("=")
            items[label.strip("'")] = value
        return items


def first_line(output: str) -> str:
    """The first line of a plugin's output."""
    return output.splitlines()[0] if output else ""

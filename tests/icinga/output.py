"""Comparing what Icinga or NRPE passed on with what the plugin printed, on top
of the tests' one plugin-output parser (tests.support.output)."""

from __future__ import annotations

import re

from tests.support.output import PluginOutput


def parts(text: str) -> tuple[str, list[str], list[str]]:
    """(first line without perfdata, long output lines, perfdata items)."""
    parsed = PluginOutput(0, text.rstrip("\n"))
    first = parsed.first_line.partition("|")[0].rstrip()
    perf = [f"{label}={value}" for label, value in parsed.perfdata.items()]
    return first, parsed.long_output, perf


def perf_key(item: str) -> tuple[str, str, str]:
    """A perfdata item for comparing two runs: durations (unit s) may differ,
    and Icinga drops the quotes around a label that needs none."""
    label, _, rest = item.rpartition("=")
    if len(label) > 1 and label[0] == label[-1] == "'" and " " not in label:
        label = label[1:-1]
    value, _, thresholds = rest.partition(";")
    match = re.match(r"^([-+]?[\d.]+(?:[eE][-+]?\d+)?)(.*)$", value)
    number, unit = (match.group(1), match.group(2)) if match else (value, "")
    return label, unit if unit == "s" else number + unit, thresholds


def normalise(text: str) -> str:
    """Hide what differs between two runs: durations and other numbers."""
    return re.sub(r"\d+(?:\.\d+)?(?:e-?\d+)?", "N", text)

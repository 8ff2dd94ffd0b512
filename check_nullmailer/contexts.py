"""Values and contexts both audits share: a part that could not be measured, and
perfdata that never judges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nagiosplugin

from check_callout.kit.states import UNKNOWN, to_nagios


@dataclass
class Problem:
    """A part that could not be measured (UNKNOWN by default) or was skipped (OK, named)."""

    text: str
    state: int = UNKNOWN


class ProblemContext(nagiosplugin.Context):
    def __init__(self) -> None:
        super().__init__("problem")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        problem: Problem = metric.value
        return self.result_cls(to_nagios(problem.state), problem.text, metric)


class PerfContext(nagiosplugin.ScalarContext):
    """Perfdata only: never judges."""

    def __init__(self, name: str = "perf") -> None:
        super().__init__(name)

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return self.result_cls(nagiosplugin.Ok, None, metric)

"""The suite's one vocabulary of states.

States are the plugin exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).  Within a
check, ``worst()`` ranks CRITICAL above UNKNOWN: a proven failure is worse news than a
part that could not be seen, so it leads the first line.  The process's exit code is
nagiosplugin's (the most significant result); the two agree except when one part is
CRITICAL and another UNKNOWN, where the line leads with the CRITICAL part.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
_RANK = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}  # CRITICAL outranks UNKNOWN
BY_NAME = {"ok": OK, "warning": WARNING, "critical": CRITICAL, "unknown": UNKNOWN}


def worst(states: Iterable[int]) -> int:
    """The most severe state: CRITICAL, then UNKNOWN, then WARNING, then OK."""
    return max(states, key=_RANK.__getitem__, default=OK)


def rank(state: int) -> int:
    """Sort key, most severe last (see :func:`worst`)."""
    return _RANK[state]


def to_nagios(state: int) -> Any:
    """The nagiosplugin ServiceState for a state."""
    import nagiosplugin

    return (nagiosplugin.Ok, nagiosplugin.Warn, nagiosplugin.Critical, nagiosplugin.Unknown)[state]

"""Words and numbers on the plugin's lines: the first line's length, perfdata numbers,
counts and ages as people read them.
"""

from __future__ import annotations

from check_callout.kit.text import sanitize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

FIRST_LINE_MAX = 200  # the status text before " | ": it must survive every transport


class Seconds(float):
    """A time for perfdata in fixed notation (``0.000052``, never ``5.2e-05``)."""

    def __str__(self) -> str:
        return f"{self:.6f}"

    __repr__ = __str__


def summary_limit(name: str) -> int:
    """Characters left for the summary after ``NAME CRITICAL - ``."""
    return FIRST_LINE_MAX - len(name) - len(" CRITICAL - ")


def cut_words(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word boundary with ``...``."""
    if len(text) <= limit:
        return text
    head = text[: max(0, limit - 3)]
    space = head.rfind(" ")
    if space >= limit // 3:  # a word boundary not too far back
        head = head[:space]
    return head.rstrip(" ;,:") + "..."


def fit(parts: Sequence[str], limit: int, sep: str = "; ") -> str:
    """Join whole ``parts`` while they fit in ``limit``, then say how many were left out
    (``(+2 more below)``: the long output lists them). A first part that fits only
    alone is kept whole without the count; one that does not fit alone is cut at a word."""
    parts = [sanitize(p, 10_000) for p in parts if p]
    taken: list[str] = []
    for index, part in enumerate(parts):
        left = len(parts) - index - 1
        tail = f" (+{left} more below)" if left else ""
        candidate = sep.join([*taken, part]) + tail
        if len(candidate) <= limit:
            taken.append(part)
            continue
        if not taken:
            if len(part) <= limit:  # the leading part whole matters more than the count
                return part
            return cut_words(part, limit - len(tail)) + tail
        dropped = len(parts) - len(taken)
        return sep.join(taken) + f" (+{dropped} more below)"
    return sep.join(taken)


def plural(count: int, noun: str) -> str:
    """``1 message``, ``3 messages``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def age(seconds: float) -> str:
    """An age as people read it: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"

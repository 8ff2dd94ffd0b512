"""Postfix parameter expansion (``$name``, ``${name}``, ``$(name)``), for when ``postconf``
is absent or refuses the file and the reader expands main.cf itself -- bounded.

A main.cf can make expansion explode: ``a = $b$b$b...`` over a dozen levels is
thousands of billions of characters.  The real ``postconf -x`` 3.7 spends minutes on it;
with ``a = $a$a$a`` it says "unreasonable macro call nesting" and "fatal: macro
processing error".  Here an expansion deeper than :data:`MAX_DEPTH` levels or longer
than :data:`MAX_SIZE` characters (counted over every level, so the work is bounded too)
is :class:`~check_callout.kit.files.CouldNotRead`, never a hang and never a value cut.
"""

from __future__ import annotations

import re

from check_callout.kit.files import CouldNotRead

MAX_DEPTH = 10
MAX_SIZE = 64 * 1024
_EXPAND = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|\(([A-Za-z0-9_]+)\)|([A-Za-z0-9_]+))")


class _Budget:
    __slots__ = ("left", "what")

    def __init__(self, what: str) -> None:
        self.left = MAX_SIZE
        self.what = what


def _expand(value: str, params: dict[str, str], depth: int, budget: _Budget, strict: bool) -> str:
    if "$" not in value:
        return value
    if depth > MAX_DEPTH:
        if strict:
            raise CouldNotRead(budget.what, f"expansion nested deeper than {MAX_DEPTH} levels (a loop?)")
        return value

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        text = _expand(params.get(name, ""), params, depth + 1, budget, strict)
        budget.left -= len(text)
        if budget.left < 0:
            raise CouldNotRead(budget.what, f"expands to more than {MAX_SIZE} characters: not used")
        return text

    return _EXPAND.sub(repl, value)


def expand_checked(name: str, params: dict[str, str]) -> str:
    """Parameter ``name`` of ``params`` expanded whole; raises CouldNotRead (what:
    ``main.cf NAME``) when nested deeper than MAX_DEPTH or longer than MAX_SIZE."""
    return _expand(params.get(name, ""), params, 0, _Budget(f"main.cf {name}"), True)


def expand_postfix(value: str, params: dict[str, str], depth: int = 0) -> str:
    """``value`` expanded; past MAX_DEPTH a reference is left as written (a loop is
    bounded, not an error here); longer than MAX_SIZE raises CouldNotRead."""
    return _expand(value, params, depth, _Budget("main.cf value"), False)

"""A nagiosplugin Result that carries the judgement's detail lines to the Summary.

nagiosplugin lets plugins subclass Result and hand the class to a Context
(``result_cls``); the Summary then reads the details from the result, and the
measured value through ``result.metric``/``result.resource``, as the library intends.
"""

from __future__ import annotations

import nagiosplugin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class Finding(nagiosplugin.Result):
    """A result with ``details``: lines for the long output, computed while judging;
    ``keep``: the end of ``hint`` that the first line must show whole (cut before it)."""

    def __new__(
        cls,
        state: Any,
        hint: str | None = None,
        metric: Any = None,
        details: Sequence[Any] = (),
        keep: str = "",
    ) -> Finding:
        self = super().__new__(cls, state, hint, metric)
        self.details = tuple(details)
        self.keep = keep
        return self

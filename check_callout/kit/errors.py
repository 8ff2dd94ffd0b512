"""The errors every plugin of the suite raises on its way to a result.

A leaf module: the parser (:mod:`.cli`), ``--extra-opts`` (:mod:`.extra_opts`) and the
runner (:mod:`.runner`) all raise these, and none of them imports another to do so.
"""

from __future__ import annotations


class UsageError(Exception):
    """A bad command line or bad input value: the plugin ends UNKNOWN."""


class Interrupted(BaseException):
    """A terminating signal arrived before the result was written (not an ``Exception``:
    no ``except Exception`` on the way may swallow it)."""

    def __init__(self, signame: str) -> None:
        super().__init__(signame)
        self.signame = signame

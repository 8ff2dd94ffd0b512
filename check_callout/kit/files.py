"""Reading what configuration and queues hold: "could not read" is never "nothing there".

:class:`CouldNotRead` is the one result of every reader that did not get its input whole:
the file is missing where it must exist, unreadable, not a regular file, larger than the
reader's bound, slower than the run's deadline, or a listing that did not parse.  A
reader raises it (or hands it over in place of a value); a context that receives it
judges WARNING or UNKNOWN and names ``what`` and ``why`` in the long output, never OK.
"""

from __future__ import annotations


class CouldNotRead(Exception):
    """``what`` (a path or a command) could not be read whole, ``why`` in plain words."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why

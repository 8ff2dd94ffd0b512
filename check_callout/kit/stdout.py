"""The plugin's one output channel: every byte a plugin writes to stdout passes here.

- :func:`emit` drops bidirectional controls and other control characters, and writes
  characters the output encoding cannot hold as ``\\uXXXX`` (a Latin-1 or ASCII locale
  never crashes the line);
- stdout that cannot be written (``/dev/full``, a closed pipe) is remembered in
  :class:`OutputState` and pointed at ``/dev/null``, so nothing tries again at exit;
- :func:`fail_unknown` is the early ``NAME UNKNOWN - reason`` line (exit 3).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

UNKNOWN = 3

# Bidirectional controls (LRE..RLO, LRI..PDI, LRM, RLM, ALM) and every control character
# but the newline: none of them may reach a monitoring system's screen.
_NEVER = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C,
     *range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
)  # fmt: skip


class OutputState:
    """The state of stdout for this run: whether the result has begun, and why it could
    not be written (empty while it can)."""

    started = False
    broken = ""


def emit(text: str) -> None:
    """Write plugin output: no control or bidi characters, and only characters the
    stream's encoding can hold (others as ``\\uXXXX``)."""
    OutputState.started = True
    text = text.translate(_NEVER)
    stream = sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    if OutputState.broken:
        return
    try:
        stream.write(text)
    except (OSError, ValueError) as exc:  # a full disk, a closed pipe: nothing more to say
        OutputState.broken = f"{type(exc).__name__}: {exc}"
        drop_stdout()


class MarkedStream:
    """The stream nagiosplugin prints its result to: through :func:`emit`."""

    def write(self, text: str) -> int:
        emit(text)
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()


def fail_unknown(name: str, reason: str) -> NoReturn:
    """Print ``NAME UNKNOWN - reason`` and exit 3."""
    unknown_line(name, reason)
    sys.exit(UNKNOWN)


def unknown_line(name: str, reason: str) -> None:
    from check_callout.kit.text import sanitize

    emit(f"{name.upper()} UNKNOWN - {sanitize(reason, 300)}\n")


def drop_stdout() -> None:
    """Point stdout at /dev/null so that nothing tries again at interpreter exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass

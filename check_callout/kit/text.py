"""Make foreign text safe for a plugin's output.

Servers and DNS answers are not trusted: their text can hold control characters,
ANSI escapes, bytes that are not UTF-8, newlines and ``|`` (which would split a
plugin line into perfdata).  Everything that reaches the output passes here.
"""

from __future__ import annotations

_ANSI_PATTERN = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
_ansi = None  # compiled on first use: most texts hold no ESC, and start-up time matters

# One translation table instead of regular expressions (compiling them cost every run
# a millisecond): bidirectional controls (embeddings, overrides, isolates, marks), which
# could turn the rest of a status line around on an operator's screen, are dropped;
# "|" (the perfdata separator) becomes "/"; other control characters become spaces.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_TABLE = {ord(c): None for c in _BIDI}
_TABLE[ord("|")] = "/"
_TABLE.update((c, " ") for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF])
_LABEL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@[]-")


def decode(data: bytes) -> str:
    """Decode bytes from the network, replacing what is not UTF-8."""
    return data.decode("utf-8", errors="replace")


def sanitize(text: str | bytes, limit: int = 200) -> str:
    """Return ``text`` as one printable line of at most ``limit`` characters.

    ANSI escape sequences and bidirectional controls are dropped, other control
    characters and ``|`` become spaces or ``/``, runs of white space collapse to one space.
    """
    global _ansi
    if isinstance(text, bytes):
        text = decode(text)
    if "\x1b" in text:
        if _ansi is None:
            import re

            _ansi = re.compile(_ANSI_PATTERN)
        text = _ansi.sub("", text)
    text = " ".join(text.translate(_TABLE).split())
    if len(text) > limit:
        text = text[: max(0, limit - 3)].rstrip() + "..."
    return text


def perf_label(text: str, limit: int = 60) -> str:
    """Return a perfdata label: no quotes, ``=``, spaces or control characters."""
    label = "".join(c if c in _LABEL_SAFE else "_" for c in sanitize(text, limit))
    return label or "_"

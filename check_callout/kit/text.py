"""Make foreign text safe for a plugin's output.

Servers and DNS answers are not trusted: their text can hold control characters,
ANSI escapes, bytes that are not UTF-8, newlines and ``|`` (which would split a
plugin line into perfdata).  Everything that reaches the output passes here.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f|\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
# bidirectional controls (embeddings, overrides, isolates, marks): a server could turn the
# rest of a status line around on an operator's screen; they are dropped, not shown
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.:@\[\]-]")


def decode(data: bytes) -> str:
    """Decode bytes from the network, replacing what is not UTF-8."""
    return data.decode("utf-8", errors="replace")


def sanitize(text: str | bytes, limit: int = 200) -> str:
    """Return ``text`` as one printable line of at most ``limit`` characters.

    ANSI escape sequences and bidirectional controls are dropped, other control
    characters and ``|`` become spaces or ``/``, runs of white space collapse to one space.
    """
    if isinstance(text, bytes):
        text = decode(text)
    text = _ANSI.sub("", text)
    text = _BIDI.sub("", text)
    text = text.replace("|", "/")
    text = _UNSAFE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: max(0, limit - 3)].rstrip() + "..."
    return text


def perf_label(text: str, limit: int = 60) -> str:
    """Return a perfdata label: no quotes, ``=``, spaces or control characters."""
    label = _LABEL_UNSAFE.sub("_", sanitize(text, limit))
    return label or "_"

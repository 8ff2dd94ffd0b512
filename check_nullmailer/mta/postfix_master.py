"""Postfix ``master.cf``, read as the master daemon reads it (master(5)).

- a logical line starts with non-whitespace; a line that starts with whitespace
  continues it; empty lines and lines whose first non-whitespace character is ``#``
  are skipped, also between a line and its continuation (the real master joins the
  lines around such a comment);
- the fields are service, type, private, unpriv, chroot, wakeup, maxproc and the
  command with its arguments;
- ``-o name=value``, ``-oname=value`` and ``-o { name = value }`` set a parameter for
  that service only, on top of main.cf.  ``postconf -M``/``-P`` (3.7) print
  ``-omynetworks=0.0.0.0/0`` as ``-o mynetw -o rks=...``, while the real smtpd applies
  it as written: so the file itself is read here, never ``postconf -M``.

The file is read whole or not at all: a part of master.cf would hide the services after
the cut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

KNOWN_PORTS = {"smtp": 25, "submission": 587, "smtps": 465, "submissions": 465}


@dataclass(frozen=True)
class MasterService:
    """One service of master.cf."""

    name: str  # the service field as written: "smtp", "0.0.0.0:2525", "[::1]:smtp"
    type: str  # inet, unix, unix-dgram, fifo, pass
    command: str  # the program: smtpd, postscreen, pickup, ...
    overrides: tuple[tuple[str, str], ...]  # the -o settings, in order
    line: int  # the line it starts on

    @property
    def host(self) -> str | None:
        """The host part of an inet service name (``None``: ``inet_interfaces`` applies)."""
        if self.type != "inet":
            return None
        host, sep, _ = self.name.rpartition(":")
        if not sep or not host:
            return None
        return host[1:-1] if host.startswith("[") and host.endswith("]") else host

    @property
    def port_name(self) -> str:
        return self.name.rpartition(":")[2]

    @property
    def port(self) -> int | None:
        """The TCP port, when the name is a number or a well-known SMTP service."""
        word = self.port_name
        if word.isdigit():
            return int(word)
        if word in KNOWN_PORTS:
            return KNOWN_PORTS[word]
        import socket

        try:
            return socket.getservbyname(word, "tcp")
        except OSError:
            return None

    def shown_overrides(self) -> str:
        return " ".join(f"-o {name}={value}" for name, value in self.overrides)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            if found:
                found[-1] = (found[-1][0], found[-1][1] + " " + stripped)
            continue  # a continuation with nothing before it: master(5) skips it too
        found.append((number, stripped))
    return found


def _tokens(line: str) -> list[str]:
    """Whitespace-separated words, a ``{ ... }`` group (nested braces balanced) being one
    word, as the master daemon splits a line."""
    words: list[str] = []
    word: list[str] = []
    depth = 0
    for char in line:
        if char in " \t" and depth == 0:
            if word:
                words.append("".join(word))
                word = []
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        word.append(char)
    if word:
        words.append("".join(word))
    return words


def _overrides(args: list[str]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        word = args[index]
        setting = ""
        if word == "-o" and index + 1 < len(args):
            setting = args[index + 1]
            index += 2
        elif word.startswith("-o") and len(word) > 2:
            setting = word[2:]
            index += 1
        else:
            index += 1
            continue
        if setting.startswith("{") and setting.endswith("}"):
            setting = setting[1:-1].strip()
        name, sep, value = setting.partition("=")
        if sep and name.strip():
            found.append((name.strip(), value.strip()))
    return tuple(found)


def parse_master_cf(text: str) -> list[MasterService]:
    """The services of master.cf text (lines with fewer than eight fields are skipped,
    as ``postfix check`` would complain about them)."""
    services: list[MasterService] = []
    for number, line in _logical_lines(text):
        fields = _tokens(line)
        if len(fields) < 8:
            continue
        services.append(MasterService(fields[0], fields[1], fields[7], _overrides(fields[8:]), number))
    return services


def read_master_cf(path: str, deadline: float | None = None) -> list[MasterService]:
    """The services of the master.cf at ``path``; raises
    :class:`~check_callout.kit.files.CouldNotRead` when it cannot be read whole."""
    from check_callout.kit.files import CouldNotRead
    from check_nullmailer.host import MAX_FILE, read_text

    try:
        text = read_text(path, deadline=deadline)
    except CouldNotRead:
        raise
    except OSError as exc:
        why = "not found" if not os.path.exists(path) else exc.strerror or type(exc).__name__
        raise CouldNotRead(path, why) from None
    if len(text) >= MAX_FILE:  # the reader stopped at its bound: the rest is unseen
        raise CouldNotRead(path, f"larger than {MAX_FILE} bytes: not read in part")
    return parse_master_cf(text)

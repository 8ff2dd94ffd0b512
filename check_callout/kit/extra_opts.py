"""``--extra-opts=[section][@file]``: options read from an INI file, as the Monitoring
Plugins' C plugins read them, so that site defaults and secrets need not sit in
command lines (NRPE configurations, Icinga command definitions).

- The section defaults to the plugin's name (``check_callout``); the file to
  ``$MP_CONFIG_FILE``, else the first ``monitoring-plugins.ini``, ``plugins.ini`` or
  ``nagios-plugins.ini`` in a directory of ``$NAGIOS_CONFIG_PATH``, else the first of
  :data:`DEFAULT_FILES` that exists.
- ``key = value`` becomes ``--key=value``, ``key =`` becomes the flag ``--key``; a
  one-letter key becomes ``-k value``; ``;`` and ``#`` start comments.  A line without
  ``=``, a missing section or an unreadable file is an error (UNKNOWN), as in the C
  plugins.
- The file is read whole or not at all: a FIFO, a device, a directory or a file over
  256 KiB is an error (UNKNOWN), never read in part.
- The file's options come first, wherever ``--extra-opts`` stands, so the command line
  wins for single-valued options.

Checked against Debian 12's check_smtp (monitoring-plugins 2.3.3, tests/test_extra_opts.py):
it agrees on all of the above, except two things it gets wrong and we do not copy: a
one-letter key (``p=4``) reaches it as ``-p=4`` and is refused, and a bare
``--extra-opts`` with ``$MP_CONFIG_FILE`` set aborts it (``free(): invalid pointer``).
"""

from __future__ import annotations

import os

from check_callout.kit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

OPTION = "--extra-opts"
INI_NAMES = ("monitoring-plugins.ini", "plugins.ini", "nagios-plugins.ini")
DEFAULT_FILES = (
    "/usr/local/etc/monitoring-plugins/monitoring-plugins.ini",
    "/usr/local/etc/monitoring-plugins.ini",
    "/etc/monitoring-plugins/monitoring-plugins.ini",
    "/etc/monitoring-plugins.ini",
    "/etc/nagios/plugins.ini",
    "/usr/local/nagios/etc/plugins.ini",
    "/usr/local/etc/nagios/plugins.ini",
    "/etc/opt/nagios/plugins.ini",
    "/etc/nagios-plugins.ini",
    "/usr/local/etc/nagios-plugins.ini",
    "/etc/opt/nagios-plugins.ini",
)
MAX_FILE = 256 * 1024


def expand(argv: Sequence[str], prog: str) -> list[str]:
    """``argv`` with every ``--extra-opts[=LOCATOR]`` replaced by the file's options,
    placed before the rest of the command line."""
    from_files: list[str] = []
    rest: list[str] = []
    for arg in argv:
        if arg == OPTION or arg.startswith(OPTION + "="):
            locator = arg[len(OPTION) + 1 :]
            from_files.extend(read(locator, prog))
        else:
            rest.append(arg)
    return from_files + rest


def _default_file() -> str:
    chosen = os.environ.get("MP_CONFIG_FILE")
    if chosen:
        return chosen
    for directory in os.environ.get("NAGIOS_CONFIG_PATH", "").split(":"):
        for name in INI_NAMES if directory else ():
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return path
    for path in DEFAULT_FILES:
        if os.path.exists(path):
            return path
    raise UsageError("extra-opts: cannot find a configuration file in any standard location")


def read(locator: str, prog: str) -> list[str]:
    """The arguments that section ``[section][@file]`` of an INI file stands for."""
    section, at, path = locator.partition("@")
    section = section.strip() or prog
    path = path if at and path else _default_file()
    from check_callout.kit.files import CouldNotRead, read_text

    # Read before any timer exists: the open never blocks (a FIFO is refused), the read
    # ends within a couple of seconds, and a file over MAX_FILE is refused whole (a value
    # cut at the edge, port = 25259 read as 2525, must never be used).
    try:
        text = read_text(path, limit=MAX_FILE)
    except CouldNotRead as exc:
        raise UsageError(f"extra-opts: cannot read {path}: {exc.why}") from None
    args: list[str] = []
    found = False
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            current = line[1:].partition("]")[0].strip()
            found = found or current == section
            continue
        if current is None:
            raise UsageError(f"extra-opts: {path} line {number}: an option before any [section]")
        if current != section:
            continue
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or " " in key:
            raise UsageError(f"extra-opts: {path} line {number}: not 'option = value'")
        if len(key) == 1:
            args.extend([f"-{key}", value] if value else [f"-{key}"])
        else:
            args.append(f"--{key}={value}" if value else f"--{key}")
    if not found:
        raise UsageError(f"extra-opts: no section [{section}] in {path}")
    return args

"""Command-line helpers shared by the plugins of the suite.

Monitoring plugins must never exit with argparse's status 2 (CRITICAL to Icinga) on a
usage error, must refuse control characters in arguments, and print a single
well-formed line when they fail early.
"""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

UNKNOWN = 3


class UsageError(Exception):
    """A bad command line or bad input value: the plugin ends UNKNOWN."""


def fail_unknown(name: str, reason: str) -> NoReturn:
    """Print ``NAME UNKNOWN - reason`` and exit 3."""
    from check_callout.text import sanitize

    print(f"{name.upper()} UNKNOWN - {sanitize(reason, 300)}")
    sys.exit(UNKNOWN)


class PluginArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors, ``-h`` and ``-V`` exit 3, as plugins do."""

    def __init__(self, *args: object, plugin_name: str, version: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.plugin_name = plugin_name
        self.version_string = version

    def error(self, message: str) -> NoReturn:
        fail_unknown(self.plugin_name, f"usage error: {message} (see --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stdout.write(message)
        sys.exit(UNKNOWN)

    def print_help(self, file: object = None) -> None:
        super().print_help(sys.stdout)


def check_argv(argv: Sequence[str]) -> None:
    """Refuse CR, LF, NUL and other control characters in any argument."""
    for arg in argv:
        for ch in arg:
            if ord(ch) < 0x20 or ord(ch) == 0x7F:
                raise UsageError(
                    f"argument contains a control character (0x{ord(ch):02x}): refused"
                )


def add_run_options(group: Any, prog: str, version: str, verbose_help: str) -> None:
    """``-t``, ``--connect-timeout``, ``-v`` and ``-V``, the same in every plugin."""
    group.add_argument("-t", "--timeout", type=positive_float, default=30.0, metavar="SECONDS",
                       help="bound for the whole run (default: 30)")
    group.add_argument("--connect-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                       help="bound for each TCP connect (default: 10)")
    group.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    group.add_argument("-V", "--version", action="version", version=f"{prog} {version}")


def positive_float(text: str) -> float:
    """argparse type: a number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value > 86400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400: {text!r}")
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port out of range: {text!r}")
    return value


def nagios_range(text: str) -> str:
    """argparse type: a Nagios range, checked with nagiosplugin's parser."""
    from nagiosplugin import Range

    try:
        Range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad range {text!r}: {exc}") from None
    return text


FIRST_LINE_MAX = 200  # the status text before " | ": it must survive every transport


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
    from check_callout.text import sanitize

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


def verbosity_of(argv: Sequence[str]) -> int:
    """How many ``-v`` were given, read before argparse runs (for tracebacks at -vvv)."""
    return sum(a.count("v") for a in argv if a.startswith("-v") and set(a[1:]) == {"v"})


def plugin_main(
    name: str,
    parse: Callable[[Sequence[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace, float], None],
    argv: Sequence[str] | None = None,
) -> None:
    """Parse, run, and turn every failure into one UNKNOWN line (exit 3)."""
    import time

    start = time.monotonic()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        run(parse(argv), start)
    except UsageError as exc:
        fail_unknown(name, str(exc))
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: a plugin line, never a traceback
        if verbosity_of(argv) >= 3:
            import traceback

            traceback.print_exc(file=sys.stdout)
        fail_unknown(name, f"internal error: {type(exc).__name__}: {exc}")


def execute(check: Any, verbose: int, timeout: float) -> NoReturn:
    """Run a nagiosplugin check with the suite's output and a SIGALRM backstop.

    Each plugin keeps its own deadline inside ``timeout``; the alarm one second later
    only catches what that deadline cannot (a call that never returns).
    """
    import nagiosplugin
    from nagiosplugin.output import Output

    class LongOutput(Output):
        """Perfdata stays on the first line and the long output is always shown,
        as operators read it in Icinga (nagiosplugin shows it only with -v)."""

        def add(self, check: Any) -> None:
            self.status = self.format_status(check)
            perfdata = self.format_perfdata(check)
            if perfdata:
                self.status += " " + perfdata
            self.add_longoutput(check.verbose_str)

    nagiosplugin.Runtime.instance = None  # a fresh runtime per run (tests run in-process too)
    runtime = nagiosplugin.Runtime()
    runtime.output = LongOutput(runtime.logchan)
    check.main(verbose=verbose, timeout=int(timeout) + 1)
    raise SystemExit(3)  # not reached: main() exits

"""Running a plugin: one UNKNOWN line for every early failure, and nagiosplugin's check
loop with the suite's output format and a SIGALRM backstop.
"""

from __future__ import annotations

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
    from check_callout.kit.text import sanitize

    print(f"{name.upper()} UNKNOWN - {sanitize(reason, 300)}")
    sys.exit(UNKNOWN)


def plugin_main(
    name: str,
    build_parser: Callable[[], Any],
    settle: Callable[[Any], Any],
    run: Callable[[Any, float], None],
    argv: Sequence[str] | None = None,
) -> None:
    """Parse the command line, freeze it into settings (``settle`` validates, raising
    UsageError), run, and turn every failure into one UNKNOWN line (exit 3)."""
    import time

    from check_callout.kit.cli import check_argv, verbosity_of

    start = time.monotonic()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        check_argv(argv)
        parser = build_parser()
        if any(a.startswith("--extra-opts") for a in argv):
            from check_callout.kit import extra_opts

            argv = extra_opts.expand(argv, parser.prog)
            check_argv(argv)
        run(settle(parser.parse_args(argv)), start)
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

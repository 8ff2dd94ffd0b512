"""Running a plugin: one UNKNOWN line for every early failure, and nagiosplugin's check
loop with the suite's output format and a SIGALRM backstop.

Whatever happens, the process ends with exit 0-3 and, where stdout can still take it,
one well-formed first line:

- every byte of output passes :func:`emit`: bidirectional controls and other control
  characters are dropped, and characters the output encoding cannot hold are written
  as ``\\uXXXX`` (a Latin-1 or ASCII locale never crashes the line);
- SIGTERM, SIGHUP and SIGINT before the result is written give
  ``NAME UNKNOWN - interrupted by SIGTERM ...`` and exit 3; once the result is being
  written they are ignored, so a line is never cut or doubled;
- stdout that cannot be written (``/dev/full``, a closed pipe) gives exit 3 without a
  traceback (one short line on stderr);
- with ``-vvv`` a traceback follows the first line, never precedes it.
"""

from __future__ import annotations

import sys

from check_callout.kit.errors import Interrupted, UsageError
from check_callout.kit.stdout import (
    UNKNOWN,
    MarkedStream,
    OutputState,
    drop_stdout,
    emit,
    fail_unknown,
    unknown_line,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


def _on_signal(signum: int, frame: object) -> None:
    import signal

    if OutputState.started:
        return  # the result is being written: let it finish whole
    for signame in SIGNALS:
        signal.signal(getattr(signal, signame), signal.SIG_IGN)  # one line, not two
    raise Interrupted(signal.Signals(signum).name)


def _install_signals() -> dict[int, Any]:
    import signal

    previous: dict[int, Any] = {}
    for signame in SIGNALS:
        number = getattr(signal, signame)
        try:
            previous[number] = signal.signal(number, _on_signal)
        except (ValueError, OSError):  # not the main thread (tests), or not allowed
            pass
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    import signal

    for number, handler in previous.items():
        try:
            signal.signal(number, handler)
        except (ValueError, OSError, TypeError):
            pass


def _finish(code: object) -> NoReturn:
    """Flush stdout and exit; output that cannot be written makes the run UNKNOWN (3)."""
    if not OutputState.broken:
        try:
            sys.stdout.flush()
        except (OSError, ValueError) as exc:
            OutputState.broken = f"{type(exc).__name__}: {exc}"
            drop_stdout()
    if not OutputState.broken:
        raise SystemExit(code)
    try:
        sys.stderr.write(f"stdout not writable ({OutputState.broken}); exit 3\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(UNKNOWN)


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

    from check_callout.kit.cli import check_argv

    start = time.monotonic()
    OutputState.started, OutputState.broken = False, ""
    previous = _install_signals()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
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
        except Interrupted as exc:
            unknown_line(name, f"interrupted by {exc.signame} before a result: nothing was judged")
            _traceback_after(argv)
            raise SystemExit(UNKNOWN) from None
        except Exception as exc:  # the last line of defence: a plugin line, never a traceback first
            unknown_line(name, _internal(exc))
            _traceback_after(argv)
            raise SystemExit(UNKNOWN) from None
    except SystemExit as done:
        _finish(done.code)
    except Interrupted as exc:  # arrived while an error was being handled
        if not OutputState.started:
            unknown_line(name, f"interrupted by {exc.signame} before a result: nothing was judged")
        _finish(UNKNOWN)
    finally:
        _restore_signals(previous)


def _internal(exc: Exception) -> str:
    try:
        import nagiosplugin

        if isinstance(exc, nagiosplugin.Timeout):
            return f"no result within -t (stopped after {exc})"
    except ImportError:
        pass
    return f"internal error: {type(exc).__name__}: {exc}"


def _traceback_after(argv: Sequence[str]) -> None:
    """With -vvv, the traceback: after the first line, as long output."""
    from check_callout.kit.cli import verbosity_of

    if verbosity_of(argv) >= 3:
        import traceback

        emit("".join(traceback.format_exc()))


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
    runtime.stdout = MarkedStream()
    check.main(verbose=verbose, timeout=int(timeout) + 1)
    raise SystemExit(3)  # not reached: main() exits

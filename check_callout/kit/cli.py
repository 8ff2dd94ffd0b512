"""The command line of every plugin: a parser whose errors are plugin lines, argument
types, and the option groups both plugins share (declared once, worded once).

Monitoring plugins must never exit with argparse's status 2 (CRITICAL to Icinga) on a
usage error, must refuse control characters in arguments, and follow the Monitoring
Plugins option names (``-H``, ``-p``, ``-4``/``-6``, ``-t``, ``-v``, ``-V``).
"""

from __future__ import annotations

import argparse
import sys

from check_callout.kit.errors import UsageError
from check_callout.kit.stdout import UNKNOWN, fail_unknown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

DEFAULT_TIMEOUT = 30.0  # -t
DEFAULT_CONNECT_TIMEOUT = 10.0  # --connect-timeout
DEFAULT_PORT = 25
DEFAULT_DNS_PORT = 53
FAMILIES = (6, 4)  # both address families, IPv6 first (as Exim orders a host's addresses)


class PluginArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors, ``-h`` and ``-V`` exit 3, as plugins do."""

    def __init__(self, *args: object, plugin_name: str, version: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.plugin_name = plugin_name
        self.version_string = version

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        if args is None:
            args = sys.argv[1:]
        return super().parse_known_args([undo_surrogates(arg) for arg in args], namespace)

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
                raise UsageError(f"argument contains a control character (0x{ord(ch):02x}): refused")


def undo_surrogates(arg: str) -> str:
    """An argument as its bytes meant it: under an ASCII locale (``LC_ALL=C`` with
    ``PYTHONUTF8=0``) Python keeps non-ASCII bytes as surrogate escapes, so an IDN
    ``bücher.test`` arrives as ``b\udcc3\udcbccher.test``.  UTF-8 bytes are read as UTF-8;
    anything else is left for validation to refuse."""
    if not any("\udc80" <= ch <= "\udcff" for ch in arg):
        return arg
    try:
        return arg.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return arg


# -- argument types -----------------------------------------------------------------------------

MIN_TIMEOUT = 0.2  # -t below this cannot even connect and read a banner


def _ascii_number(text: str, what: str) -> str:
    """Refuse digits other than ASCII (int() and float() read Arabic-Indic digits too)."""
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"not {what} (ASCII digits only): {text!r}")
    return text


def positive_float(text: str) -> float:
    """argparse type: a number of seconds greater than zero."""
    _ascii_number(text, "a number")
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value > 86400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400: {text!r}")
    return value


def run_timeout(text: str) -> float:
    """argparse type: ``-t``, at least :data:`MIN_TIMEOUT` seconds."""
    value = positive_float(text)
    if value < MIN_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"-t {text} is too short to connect and read a banner (at least {MIN_TIMEOUT:g} s)"
        )
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port."""
    _ascii_number(text.strip(), "a port number")
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port out of range: {text!r}")
    return value


def port_list(text: str) -> tuple[int, ...]:
    """argparse type: ``25,465,587``."""
    try:
        ports = tuple(dict.fromkeys(port_number(part.strip()) for part in text.split(",") if part.strip()))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a list of ports: {text!r}") from None
    if not ports or len(ports) > 10:
        raise argparse.ArgumentTypeError(f"give 1 to 10 ports: {text!r}")
    return ports


def nagios_range(text: str) -> str:
    """argparse type: a Nagios range, checked with nagiosplugin's parser."""
    from nagiosplugin import Range

    try:
        Range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad range {text!r}: {exc}") from None
    return text


def check_nameserver(value: str | None) -> None:
    """``--nameserver`` must be an IP address literal (raises UsageError)."""
    from check_callout.address import is_ip

    if value is not None and not is_ip(value):
        raise UsageError(f"--nameserver must be an IP address: {value!r}")


# -- option groups both plugins share ----------------------------------------------------------------


def add_family_options(group: Any) -> None:
    """``-4``/``--ipv4`` and ``-6``/``--ipv6``: which address families to use."""
    family = group.add_mutually_exclusive_group()
    family.add_argument(
        "-4", "--ipv4", dest="families", action="store_const", const=(4,), help="use IPv4 only"
    )
    family.add_argument(
        "-6", "--ipv6", dest="families", action="store_const", const=(6,), help="use IPv6 only"
    )


def add_dns_options(group: Any) -> None:
    """``--nameserver`` and ``--dns-port``: the resolver of the callouts."""
    group.add_argument(
        "--nameserver",
        metavar="IP",
        help="DNS server to ask (default: the system's, from resolv.conf)",
    )
    group.add_argument(
        "--dns-port",
        type=port_number,
        default=DEFAULT_DNS_PORT,
        help=f"DNS server port (default: {DEFAULT_DNS_PORT})",
    )


def add_port_option(group: Any) -> None:
    """``-p``/``--port``: the SMTP port of the callouts."""
    group.add_argument(
        "-p",
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"SMTP port of the callouts (default: {DEFAULT_PORT})",
    )


def add_smtp_options(group: Any) -> None:
    """``--helo`` and ``--no-starttls``: how the plugin introduces itself."""
    group.add_argument(
        "--helo",
        metavar="NAME",
        help="EHLO/HELO name (default: this host's FQDN; the bare host name when its lookup takes over 1 s)",
    )
    group.add_argument(
        "--no-starttls", dest="starttls", action="store_false", help="do not use STARTTLS even when offered"
    )


def add_run_options(group: Any, prog: str, version: str, verbose_help: str) -> None:
    """``-t``, ``--connect-timeout``, ``-v`` and ``-V``, the same in every plugin."""
    group.add_argument(
        "-t",
        "--timeout",
        type=run_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound for the whole run (default: {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound for each TCP connect (default: {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    group.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    group.add_argument("-V", "--version", action="version", version=f"{prog} {version}")
    group.add_argument(
        "--extra-opts",
        nargs="?",
        metavar="[SECTION][@FILE]",
        help=f"read options from section SECTION (default: {prog}) of an INI file, as the "
        "Monitoring Plugins do; the command line wins over the file",
    )


def verbosity_of(argv: Sequence[str]) -> int:
    """How many ``-v`` were given, read before argparse runs (for tracebacks at -vvv)."""
    return sum(a.count("v") for a in argv if a.startswith("-v") and set(a[1:]) == {"v"})

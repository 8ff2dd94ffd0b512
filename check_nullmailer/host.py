"""The host the local audit runs on: its files (under an optional ``--root``), its
commands (bounded in time), its names.

Nothing here raises for a missing file except :func:`read_text` and
:func:`first_word`, which raise :class:`~check_callout.kit.files.CouldNotRead` (an
``OSError``): their callers turn it into that part's "could not read".
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable

MAX_FILE = 1024 * 1024  # configuration files larger than this are refused, never read in part
COMMAND_TIMEOUT = 10.0


def under(root: str, path: str) -> str:
    """``path`` (absolute) below ``root``."""
    if root in ("", "/"):
        return path
    return os.path.join(root, path.lstrip("/"))


def read_text(path: str, *, deadline: float | None = None) -> str:
    """A configuration file's text, whole; raises
    :class:`~check_callout.kit.files.CouldNotRead` (missing, unreadable, not a regular
    file, larger than :data:`MAX_FILE`, no answer in time)."""
    from check_callout.kit.files import read_text as read_bounded

    return read_bounded(path, limit=MAX_FILE, deadline=deadline)


def first_word(path: str, *, deadline: float | None = None) -> str | None:
    """The first word of the first non-comment line (``/etc/mailname``-style files)."""
    for line in read_text(path, deadline=deadline).splitlines()[:1000]:
        line = line.split("#", 1)[0].strip()
        if line:
            return line.split()[0]
    return None


def why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def local_hostname(root: str) -> tuple[str, str]:
    """This host's name and where it came from (``/etc/hostname`` under a root)."""
    if root not in ("", "/"):
        try:
            name = first_word(under(root, "/etc/hostname"))
            if name:
                return name, "/etc/hostname"
        except OSError:
            pass
    return socket.gethostname(), "the system host name"


def canonical_name(root: str, host: str) -> str:
    """``host`` as the resolver's canonical name (``getaddrinfo`` with AI_CANONNAME), as
    msmtp's ``%C`` and OpenSMTPD's default host name are; ``host`` itself when that
    fails, takes over a second, or when reading a foreign root (its resolver is not this
    process's)."""
    from check_callout.kit.parallel import call_within
    from check_callout.settings import OWN_NAME_WAIT

    if is_foreign_root(root) or not host:
        return host

    def lookup() -> str:  # bounded: a dead resolver must not eat the check's time
        found = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
        return (found[0][3] if found and found[0][3] else host).rstrip(".")

    return call_within(lookup, OWN_NAME_WAIT, host)


def mailname(root: str) -> str | None:
    try:
        return first_word(under(root, "/etc/mailname"))
    except OSError:
        return None


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip("<>").rstrip(".").lower()


def with_sudo(argv: list[str], sudo: bool) -> list[str]:
    """``argv`` as ``sudo -n -- ARGV`` (never asks for a password) when ``sudo``."""
    return [find_tool(("sudo",)) or "sudo", "-n", "--", *argv] if sudo else argv


def run_command(argv: list[str], deadline: float | None, sudo: bool = False) -> tuple[int, str, str]:
    """Run a local tool, bounded by ``deadline``; raises OSError/TimeoutExpired.

    With ``sudo`` it runs as ``sudo -n -- ARGV`` (never asks for a password): only the
    read-only queue listings go this way, as granted by contrib/sudoers.d/check_nullmailer,
    so ``argv[0]`` must be the tool's full path."""
    argv = with_sudo(argv, sudo)
    timeout = COMMAND_TIMEOUT
    if deadline is not None:
        timeout = max(0.1, min(timeout, deadline - time.monotonic()))
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"},
    )
    decode = lambda data: data.decode("utf-8", errors="replace")  # noqa: E731
    return proc.returncode, decode(proc.stdout), decode(proc.stderr)


MAX_LINE = 64 * 1024  # a longer output line is cut (and counted as one line)
MAX_STDERR = 16 * 1024


class Streamed:
    """What :func:`stream_lines` saw: exit status (None when it stopped the tool), lines
    handed on, whether it stopped at ``max_lines``, and the end of stderr."""

    __slots__ = ("returncode", "lines", "capped", "stderr")

    def __init__(self) -> None:
        self.returncode: int | None = None
        self.lines = 0
        self.capped = False
        self.stderr = ""


def stream_lines(
    argv: list[str],
    deadline: float | None,
    on_line: Callable[[str, bool], bool | None],
    max_lines: int,
    sudo: bool = False,
) -> Streamed:
    """Run a local tool (through ``sudo -n`` with ``sudo``) and hand each stdout line to
    ``on_line(line, whole)`` as it arrives, never holding more than one read and one line
    in memory.  ``whole`` is False for a line longer than :data:`MAX_LINE`, handed over
    cut to its first :data:`MAX_LINE` bytes.  The tool is stopped after ``max_lines``
    lines, or when ``on_line`` returns True (``capped`` either way).  Bounded by
    ``deadline`` like :func:`run_command`: raises ``subprocess.TimeoutExpired`` (the tool
    killed) or OSError."""
    import selectors

    timeout = COMMAND_TIMEOUT
    if deadline is not None:
        timeout = max(0.1, min(timeout, deadline - time.monotonic()))
    end = time.monotonic() + timeout
    proc = subprocess.Popen(
        with_sudo(argv, sudo),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"},
    )
    result = Streamed()
    err = b""
    partial = b""
    cut = False  # the line in ``partial`` was longer than MAX_LINE

    def hand_on(line: bytes, whole: bool) -> None:
        stop = on_line(line[:MAX_LINE].decode("utf-8", errors="replace"), whole)
        result.lines += 1
        if stop or result.lines >= max_lines:
            result.capped = True

    try:
        with selectors.DefaultSelector() as selector:
            assert proc.stdout is not None and proc.stderr is not None
            for pipe in (proc.stdout, proc.stderr):
                os.set_blocking(pipe.fileno(), False)
                selector.register(pipe, selectors.EVENT_READ)
            open_pipes = 2
            while open_pipes and not result.capped:
                left = end - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(argv, timeout)
                for key, _ in selector.select(min(left, 1.0)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        open_pipes -= 1
                        continue
                    if key.fileobj is proc.stderr:
                        err = (err + chunk)[-MAX_STDERR:]
                        continue
                    lines = (partial + chunk).split(b"\n")
                    partial = lines.pop()
                    for line in lines:
                        hand_on(line, not cut and len(line) <= MAX_LINE)
                        cut = False
                        if result.capped:
                            break
                    if len(partial) > MAX_LINE:
                        partial, cut = partial[:MAX_LINE], True
                    if result.capped:
                        break
        if partial and not result.capped:
            hand_on(partial, not cut)
        if not result.capped:
            result.returncode = proc.wait(timeout=max(0.1, end - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    result.stderr = err.decode("utf-8", errors="replace")
    return result


def find_tool(names: tuple[str, ...]) -> str | None:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def is_loopback_word(word: str) -> bool:
    word = word.strip().strip("[]").lower()
    if word in ("localhost", "loopback-only", "lo", "lo0", "localhost.localdomain"):
        return True
    word = word.split("/", 1)[0].strip("[]")
    try:
        ip = ipaddress.ip_address(word)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def network_reach(item: str) -> str:
    """Classify one network of a relay list: ``loopback``, ``all``, ``net`` or ``other``."""
    text = item.strip().strip(",").strip()
    bare = text.replace("[", "").replace("]", "")
    if bare in ("*", "0/0", "0.0.0.0/0", "::/0", "0.0.0.0/0.0.0.0"):
        return "all"
    if is_loopback_word(bare):
        return "loopback"
    try:
        net = ipaddress.ip_network(bare, strict=False)
    except ValueError:
        return "other"  # a name, a map, a file: not evaluated here
    if net.prefixlen == 0:
        return "all"
    return "net"


def is_foreign_root(root: str) -> bool:
    """Whether ``root`` is another system's tree: the MTAs' own tools on this host would
    read this host's configuration and queue, not the one under ``root``."""
    return root not in ("", "/")


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if sep == " ":
            key, _, value = line.partition(" ")
        else:
            key, _, value = line.partition(sep)
        values[key.strip().lower()] = value.strip()
    return values

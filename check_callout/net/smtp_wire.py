"""The wire level of an SMTP dialogue: what can go wrong (:class:`ProbeError`), a complete
reply (:class:`Reply`), and :class:`ReplyReader`, which takes replies off a socket
bounded in bytes, lines and time (no unbounded buffering of endless or over-long
replies; a server that drips one byte a second still ends at the deadline).
"""

from __future__ import annotations

import errno
import socket
import sys
import time
from collections import namedtuple

from check_callout.kit.text import decode, sanitize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MAX_LINE = 4096  # bytes in one reply line (RFC 5321 allows 512)
MAX_LINES = 1000  # lines in one multi-line reply before we call it endless
KEEP_LINES = 64  # lines of one reply we keep (EHLO keywords, texts)
MAX_TRANSCRIPT = 400

KINDS = ("refused", "timeout", "unreachable", "no_route", "closed", "protocol", "tls", "deadline")
_NO_ROUTE = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)


def local_route_error(address: str) -> OSError | None:
    """Why this host itself cannot send to ``address`` (no route, no address of that
    family), or None when it can.  A UDP ``connect`` only consults the local routing
    table: nothing is sent."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        probe = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:  # the family itself is missing (a kernel without IPv6)
        return exc
    try:
        probe.connect((address.encode("ascii", "replace"), 9))
    except OSError as exc:
        return exc if exc.errno in _NO_ROUTE else None
    finally:
        probe.close()
    return None


class ProbeError(Exception):
    """The dialogue broke off: the server could not be asked.

    ``kind`` is one of :data:`KINDS`; ``phase`` the step that failed (``connect``,
    ``banner``, ``ehlo``, ``starttls``, ``mail``, ``rcpt``, ``rset``).  ``no_route``:
    this host has no route to the address (its own network, not the server's fault);
    ``unreachable``: the way there failed further out (an ICMP unreachable).
    ``replies`` holds the complete replies a pipelined group got before the break: they
    are answers (a receiver has its reply to RCPT before it sends anything else).
    """

    def __init__(self, kind: str, phase: str, detail: str) -> None:
        super().__init__(f"{kind} at {phase}: {detail}")
        self.kind = kind
        self.phase = phase
        self.detail = sanitize(detail, 160)
        self.replies: list[Reply] = []


class Reply(namedtuple("Reply", "code text phase")):
    """A complete SMTP reply: ``code`` (0 if none), sanitised one-line ``text``, and the
    ``phase`` it answered (banner, ehlo, mail, rcpt ...)."""

    __slots__ = ()

    @property
    def positive(self) -> bool:
        return 200 <= self.code < 300

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class ReplyReader:
    """Reads SMTP replies for one session: ``timeout`` bounds each reply, ``deadline``
    (a :func:`time.monotonic` value) the whole run; ``log`` gets every line read."""

    def __init__(
        self, address: str, timeout: float, deadline: float, log: Callable[[str, bytes], None]
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.deadline = deadline
        self.log = log
        self.buf = b""
        self.phase = "connect"

    def readline(self, sock: socket.socket, reply_deadline: float) -> bytes:
        while True:
            cut = self.buf.find(b"\n")
            if cut >= 0:
                line, self.buf = self.buf[: cut + 1], self.buf[cut + 1 :]
                if len(line) > MAX_LINE:
                    raise ProbeError("protocol", self.phase, f"reply line longer than {MAX_LINE} bytes")
                return line
            if len(self.buf) > MAX_LINE:
                raise ProbeError("protocol", self.phase, f"reply line longer than {MAX_LINE} bytes")
            wait = min(reply_deadline, self.deadline) - time.monotonic()
            if wait <= 0:
                if reply_deadline < self.deadline:
                    raise ProbeError("timeout", self.phase, f"no complete reply within {self.timeout:g} s")
                raise ProbeError("deadline", self.phase, "no complete reply before the check's time ran out")
            sock.settimeout(wait)
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError as exc:
                raise self.os_error(exc) from None
            if not data:
                raise ProbeError("closed", self.phase, "server closed the connection")
            self.buf += data

    def read_reply(self, sock: socket.socket) -> tuple[int, bytes]:
        """Read one (possibly multi-line) reply; bounded in lines, bytes and time.

        The reply's code is its first line's: lines that disagree (``550-...`` then
        ``250 ...``, which RFC 5321 forbids) are read as Exim 4.96 reads them in a
        callout (seen: ``550-``/``250`` rejects, ``250-``/``550`` accepts,
        ``450-``/``250`` defers), and the disagreement is said in the text.
        """
        reply_deadline = time.monotonic() + self.timeout
        kept: list[bytes] = []
        codes: list[int] = []
        for count in range(MAX_LINES + 1):
            if count == MAX_LINES:
                raise ProbeError("protocol", self.phase, f"reply longer than {MAX_LINES} lines")
            line = self.readline(sock, reply_deadline)
            self.log("S:", line)
            head, sep = line[:3], line[3:4]
            if not (head.isdigit() and sep in (b" ", b"-", b"\r", b"\n", b"")):
                raise ProbeError("protocol", self.phase, f"not an SMTP reply: {decode(line[:80])!r}")
            code = int(head)
            if not 200 <= code <= 599:
                raise ProbeError("protocol", self.phase, f"reply code out of range: {code}")
            if code not in codes:
                codes.append(code)
            if len(kept) < KEEP_LINES:
                kept.append(line[4:].strip(b" \t\r\n"))
            if sep != b"-":
                break
        if len(codes) > 1:
            mixed = ", ".join(str(c) for c in codes)
            kept.append(
                f"[reply lines carry different codes ({mixed}): read by the first, as Exim does]".encode()
            )
        return codes[0], b"\n".join(kept)

    def os_error(self, exc: OSError) -> ProbeError:
        if isinstance(exc, socket.timeout):
            return ProbeError("timeout", self.phase, "timed out")
        name = type(exc).__name__
        if isinstance(exc, ConnectionRefusedError):
            return ProbeError("refused", self.phase, "connection refused")
        ssl = sys.modules.get("ssl")  # an SSLError exists only once ssl is loaded: no import here
        if ssl is not None and isinstance(exc, ssl.SSLError):
            return ProbeError("tls", self.phase, f"TLS error: {exc.reason or exc}")
        if exc.errno in _NO_ROUTE:
            if self.phase == "connect" and local_route_error(self.address) is not None:
                return ProbeError("no_route", self.phase, f"no route from this host ({exc.strerror or name})")
            return ProbeError("unreachable", self.phase, exc.strerror or name)
        return ProbeError("closed", self.phase, exc.strerror or name)

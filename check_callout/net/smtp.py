"""The SMTP client of the suite: one dialogue with one server address.

Built on :mod:`smtplib` (command formatting, EHLO parsing) with a reply reader of our
own, because a monitoring probe must survive hostile servers: every read is bounded in
size (no unbounded buffering of endless or over-long replies) and in time (a server
that drips one byte a second still ends at the deadline), and a broken reply never
turns into smtplib's invented ``500 Line too long``.

A session never sends ``DATA``: it offers ``MAIL``/``RCPT``, then ``RSET`` and
``QUIT``.  Nothing can be delivered or queued by it.
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
    from typing import Any

    from check_callout.net.tls import TLSInfo

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
    """

    def __init__(self, kind: str, phase: str, detail: str) -> None:
        super().__init__(f"{kind} at {phase}: {detail}")
        self.kind = kind
        self.phase = phase
        self.detail = sanitize(detail, 160)


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


_smtp_class: Any = None


def _bounded_smtp_class() -> Any:
    """smtplib.SMTP with our bounded, deadline-aware reply reader (built on first use)."""
    global _smtp_class
    if _smtp_class is not None:
        return _smtp_class
    import smtplib

    class BoundedSMTP(smtplib.SMTP):
        session: SMTPSession
        ehlo_msg = "EHLO"  # as MTAs write it (smtplib's default is lower case)

        def getreply(self) -> tuple[int, bytes]:
            return self.session._read_reply()

    _smtp_class = BoundedSMTP
    return BoundedSMTP


class SMTPSession:
    """One SMTP dialogue with ``address``:``port``, bounded by ``deadline``.

    ``deadline`` is a :func:`time.monotonic` value; every socket operation waits at
    most ``min(timeout, time left)``, connects at most ``connect_timeout``.
    """

    def __init__(
        self,
        address: str,
        port: int = 25,
        *,
        helo: str,
        deadline: float,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        starttls: bool = True,
        implicit_tls: bool = False,
        server_name: str | None = None,
        transcript: list[str] | None = None,
    ) -> None:
        self.address = address
        self.port = port
        self.helo = helo
        self.deadline = deadline
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.use_starttls = starttls
        self.implicit_tls = implicit_tls
        self.server_name = server_name
        self.transcript = transcript
        self.timings: dict[str, float] = {}
        self.features: dict[str, str] = {}
        self.starttls_offered = False
        self.tls: TLSInfo | None = None
        self.tls_error: str | None = None
        self.banner: Reply | None = None
        self.esmtp = False
        self._sock: socket.socket | None = None
        self._smtp: Any = None
        self._buf = b""
        self._phase = "connect"

    # -- context manager -------------------------------------------------
    def __enter__(self) -> SMTPSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level -------------------------------------------------------
    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeError("deadline", self._phase, "no time left for this host")
        return left

    def _log(self, direction: str, text: str | bytes) -> None:
        if self.transcript is not None and len(self.transcript) < MAX_TRANSCRIPT:
            self.transcript.append(f"{direction} {sanitize(text, 300)}")

    def _readline(self, reply_deadline: float) -> bytes:
        assert self._sock is not None
        while True:
            cut = self._buf.find(b"\n")
            if cut >= 0:
                line, self._buf = self._buf[: cut + 1], self._buf[cut + 1 :]
                if len(line) > MAX_LINE:
                    raise ProbeError("protocol", self._phase, f"reply line longer than {MAX_LINE} bytes")
                return line
            if len(self._buf) > MAX_LINE:
                raise ProbeError("protocol", self._phase, f"reply line longer than {MAX_LINE} bytes")
            wait = min(reply_deadline, self.deadline) - time.monotonic()
            if wait <= 0:
                if reply_deadline < self.deadline:
                    raise ProbeError("timeout", self._phase, f"no complete reply within {self.timeout:g} s")
                raise ProbeError("deadline", self._phase, "no complete reply before the check's time ran out")
            self._sock.settimeout(wait)
            try:
                data = self._sock.recv(4096)
            except socket.timeout:
                continue
            except OSError as exc:
                raise self._os_error(exc) from None
            if not data:
                raise ProbeError("closed", self._phase, "server closed the connection")
            self._buf += data

    def _read_reply(self) -> tuple[int, bytes]:
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
                raise ProbeError("protocol", self._phase, f"reply longer than {MAX_LINES} lines")
            line = self._readline(reply_deadline)
            self._log("S:", line)
            head, sep = line[:3], line[3:4]
            if not (head.isdigit() and sep in (b" ", b"-", b"\r", b"\n", b"")):
                raise ProbeError("protocol", self._phase, f"not an SMTP reply: {decode(line[:80])!r}")
            code = int(head)
            if not 200 <= code <= 599:
                raise ProbeError("protocol", self._phase, f"reply code out of range: {code}")
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

    def _os_error(self, exc: OSError) -> ProbeError:
        if isinstance(exc, socket.timeout):
            return ProbeError("timeout", self._phase, "timed out")
        name = type(exc).__name__
        if isinstance(exc, ConnectionRefusedError):
            return ProbeError("refused", self._phase, "connection refused")
        ssl = sys.modules.get("ssl")  # an SSLError exists only once ssl is loaded: no import here
        if ssl is not None and isinstance(exc, ssl.SSLError):
            return ProbeError("tls", self._phase, f"TLS error: {exc.reason or exc}")
        if exc.errno in _NO_ROUTE:
            if self._phase == "connect" and local_route_error(self.address) is not None:
                return ProbeError(
                    "no_route", self._phase, f"no route from this host ({exc.strerror or name})"
                )
            return ProbeError("unreachable", self._phase, exc.strerror or name)
        return ProbeError("closed", self._phase, exc.strerror or name)

    def _smtplib(self) -> Any:
        if self._smtp is None:
            smtp = _bounded_smtp_class()(local_hostname=self.helo, timeout=self.timeout)
            smtp.session = self
            self._smtp = smtp
        self._smtp.sock = self._sock
        return self._smtp

    def _line(self, phase: str, cmd: str, args: str) -> str:
        """One command line, refused if it could smuggle a second command."""
        self._phase = phase
        line = f"{cmd} {args}".strip()
        if any(ch in line for ch in "\r\n\0"):
            raise ProbeError("protocol", phase, "refusing to send a command with CR, LF or NUL")
        if not line.isascii():
            raise ProbeError("protocol", phase, "refusing to send non-ASCII")
        self._log("C:", line)
        return line

    def _os_failure(self, exc: OSError, phase: str) -> ProbeError:
        if isinstance(exc, (socket.timeout, ConnectionError)) or exc.errno is not None:
            return self._os_error(exc)
        return ProbeError("closed", phase, "server closed the connection")

    def pipeline(self, commands: list[tuple[str, str, str]]) -> list[Reply]:
        """Send several ``(phase, verb, args)`` commands at once and read their replies
        (RFC 2920; only when the server offers PIPELINING, for MAIL, RCPT and RSET)."""
        if self.transcript is not None:
            self.transcript.append(f"-- {len(commands)} commands pipelined")
        lines = [self._line(phase, cmd, args) for phase, cmd, args in commands]
        assert self._sock is not None
        self._sock.settimeout(min(self.timeout, self._left()))
        smtp = self._smtplib()
        replies = []
        try:
            smtp.send("".join(f"{line}\r\n" for line in lines))
            for phase, _cmd, _args in commands:
                self._phase = phase
                code, text = smtp.getreply()
                replies.append(Reply(code, sanitize(text.replace(b"\n", b" / ")), phase))
        except ProbeError:
            raise
        except OSError as exc:  # smtplib.SMTPServerDisconnected and socket errors
            raise self._os_failure(exc, self._phase) from None
        return replies

    def _command(self, phase: str, cmd: str, args: str = "") -> Reply:
        """Send one command (formatted by smtplib) and read its reply."""
        self._line(phase, cmd, args)
        assert self._sock is not None
        self._sock.settimeout(min(self.timeout, self._left()))
        smtp = self._smtplib()
        try:
            if cmd == "EHLO":
                code, text = smtp.ehlo(args)
                if code == 250:
                    self.features = {k: sanitize(v, 100) for k, v in smtp.esmtp_features.items()}
            else:
                smtp.putcmd(cmd, args)
                code, text = smtp.getreply()
        except ProbeError:
            raise
        except OSError as exc:  # smtplib.SMTPServerDisconnected and socket errors
            raise self._os_failure(exc, phase) from None
        return Reply(code, sanitize(text.replace(b"\n", b" / ")), phase)

    # -- the dialogue ----------------------------------------------------
    def open(self) -> Reply:
        """Connect, read the banner, EHLO (HELO if refused), STARTTLS when offered.

        Returns the last reply: a non-2xx banner or HELO is returned, not raised.
        """
        start = time.monotonic()
        self._phase = "connect"
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # no such family on this host at all
            raise self._os_error(exc) from None
        sock.settimeout(min(self.connect_timeout, self._left()))
        try:
            # bytes: an IP literal needs no IDNA codec (str would import encodings.idna)
            sock.connect((self.address.encode("ascii", "replace"), self.port))
        except socket.timeout:
            sock.close()
            kind = "deadline" if self.deadline - time.monotonic() <= 0.05 else "timeout"
            raise ProbeError(kind, "connect", "no answer to connect (filtered?)") from None
        except OSError as exc:
            sock.close()
            raise self._os_error(exc) from None
        self._sock = sock
        self.timings["connect"] = time.monotonic() - start
        if self.implicit_tls:
            self._handshake()
        self._phase = "banner"
        t = time.monotonic()
        code, text = self._read_reply()
        self.timings["banner"] = time.monotonic() - t
        self.banner = Reply(code, sanitize(text.replace(b"\n", b" / ")), "banner")
        if not self.banner.positive:
            return self.banner
        reply = self._greet()
        if not reply.positive:
            return reply
        if self.starttls_offered and self.use_starttls and not self.implicit_tls:
            t = time.monotonic()
            ready = self._command("starttls", "STARTTLS")
            if ready.code != 220:
                self.tls_error = f"STARTTLS answered {ready}"
                return reply
            self._handshake()
            self.timings["starttls"] = time.monotonic() - t
            reply = self._greet()
        return reply

    def _greet(self) -> Reply:
        t = time.monotonic()
        reply = self._command("ehlo", "EHLO", self.helo)
        if reply.positive:
            self.esmtp = True
            self.starttls_offered = "starttls" in self.features
        else:
            reply = self._command("helo", "HELO", self.helo)
        self.timings["ehlo"] = time.monotonic() - t
        return reply

    def _handshake(self) -> None:
        import ssl

        self._phase = "starttls"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        assert self._sock is not None
        self._sock.settimeout(min(self.timeout, self._left()))
        self._buf = b""  # nothing sent before TLS may be trusted after it
        try:
            self._sock = ctx.wrap_socket(self._sock, server_hostname=self.server_name or None)
        except (OSError, ValueError) as exc:
            detail = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            self.tls_error = sanitize(str(detail), 160)
            raise ProbeError("tls", "starttls", f"TLS handshake failed: {detail}") from None
        from check_callout.net.tls import tls_info

        self.tls = tls_info(self._sock, self.server_name)
        if self._smtp is not None:
            self._smtp.file = None
            self._smtp.esmtp_features = {}

    def mail(self, sender: str) -> Reply:
        """``MAIL FROM:<sender>``; ``""`` is the null sender."""
        t = time.monotonic()
        reply = self._command("mail", "MAIL", f"FROM:<{sender}>")
        self.timings["mail"] = time.monotonic() - t
        return reply

    def rcpt(self, recipient: str) -> Reply:
        """``RCPT TO:<recipient>``, sent verbatim."""
        t = time.monotonic()
        reply = self._command("rcpt", "RCPT", f"TO:<{recipient}>")
        self.timings["rcpt"] = time.monotonic() - t
        return reply

    def rset(self) -> Reply:
        return self._command("rset", "RSET")

    def close(self) -> None:
        """Say QUIT (briefly) and close; never raises."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            sock.settimeout(min(1.0, max(0.05, self.deadline - time.monotonic())))
            self._log("C:", "QUIT")
            sock.sendall(b"QUIT\r\n")
            try:
                sock.recv(512)
            except OSError:
                pass
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

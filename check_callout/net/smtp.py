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

import socket
import time

from check_callout.kit.text import sanitize
from check_callout.net.smtp_wire import MAX_TRANSCRIPT, ProbeError, Reply, ReplyReader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from check_callout.net.tls import TLSInfo

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
        self._phase = "connect"
        self._reader = ReplyReader(address, timeout, deadline, self._log)

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

    def _read_reply(self) -> tuple[int, bytes]:
        assert self._sock is not None
        self._reader.phase = self._phase
        return self._reader.read_reply(self._sock)

    def _os_error(self, exc: OSError) -> ProbeError:
        self._reader.phase = self._phase
        return self._reader.os_error(exc)

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
        (RFC 2920; only when the server offers PIPELINING, for MAIL, RCPT and RSET).

        When the dialogue breaks off part way, the :class:`ProbeError` raised carries the
        complete replies read before the break in ``replies``."""
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
        except ProbeError as exc:
            exc.replies = replies
            raise
        except OSError as exc:  # smtplib.SMTPServerDisconnected and socket errors
            error = self._os_failure(exc, self._phase)
            error.replies = replies
            raise error from None
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
        self._reader.buf = b""  # nothing sent before TLS may be trusted after it
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

"""Real servers on loopback for the tests: SMTP (aiosmtpd and a raw scripted one) and DNS.

Nothing here patches sockets: the plugins talk to these servers over real TCP/UDP on
127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def free_port(addresses: Iterable[str] = ("127.0.0.1",)) -> int:
    """A TCP port that is free on every given address."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        ok = True
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            try:
                s.bind((address, port))
                if family == socket.AF_INET:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.bind((address, port))
                    u.close()
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port found")


def closed_port(address: str = "127.0.0.1") -> int:
    """A port where nothing listens (connect is refused)."""
    return free_port([address])


# --------------------------------------------------------------------------- SMTP


Policy = Callable[[str, str], str]  # (phase, address) -> reply; "" means the default reply
DEFAULT_REPLIES = {"mail": "250 OK", "rcpt": "250 Accepted"}


@dataclass
class Behaviour:
    """A policy with fixed replies: full SMTP reply strings, per recipient local part."""

    mail: str = "250 2.1.0 Ok"
    rcpt: str = "250 2.1.5 Ok"
    rcpt_for: dict[str, str] = field(default_factory=dict)  # local part -> reply
    ident: str = "mx.test ESMTP"
    pipelining: bool = False  # advertise PIPELINING, as Postfix and Exim do

    def __call__(self, phase: str, address: str) -> str:
        if phase == "mail":
            return self.mail
        return self.rcpt_for.get(address.rpartition("@")[0], self.rcpt)


class PolicyHandler:
    """aiosmtpd handler that answers MAIL and RCPT by a policy and records every command.

    ``max_syntax_errors`` plays Exim's ``smtp_max_synprot_errors``: after that many 501
    replies the connection is dropped.
    """

    def __init__(self, policy: Policy, pipelining: bool = False, max_syntax_errors: int = 0) -> None:
        self.policy = policy
        self.pipelining = pipelining
        self.max_syntax_errors = max_syntax_errors
        self.commands: list[str] = []
        self.connections = 0
        self.data_seen = False

    def _syntax_error(self, server, session) -> str | None:
        count = getattr(session, "syntax_errors", 0) + 1
        session.syntax_errors = count
        if self.max_syntax_errors and count >= self.max_syntax_errors:
            asyncio.get_event_loop().call_soon(server.transport.close)
            return "550 Too many syntax or protocol errors"
        return None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        self.commands.append(f"EHLO {hostname}")
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.commands.append(f"MAIL {address}")
        reply = self.policy("mail", address) or DEFAULT_REPLIES["mail"]
        if reply.startswith("501"):
            return self._syntax_error(server, session) or reply
        if reply.startswith("250"):
            envelope.mail_from = address
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append(f"RCPT {address}")
        reply = self.policy("rcpt", address) or DEFAULT_REPLIES["rcpt"]
        if reply.startswith("25"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_RSET(self, server, session, envelope):
        self.commands.append("RSET")
        return "250 2.0.0 Ok"

    async def handle_DATA(self, server, session, envelope):  # never reached by the checks
        self.data_seen = True
        self.commands.append("DATA")
        return "554 5.7.1 test server takes no data"


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context for a test certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


class SMTPTestServer:
    """The tests' one SMTP server: aiosmtpd on ``address``:``port`` answering by ``policy``
    (a :class:`Behaviour` by default). ``tls`` = (cert, key) offers STARTTLS, or speaks
    TLS from the first byte with ``implicit_tls``."""

    def __init__(
        self,
        address: str,
        port: int,
        policy: Policy | None = None,
        tls: tuple[Path, Path] | None = None,
        *,
        implicit_tls: bool = False,
        ident: str | None = None,
        max_syntax_errors: int = 0,
    ) -> None:
        policy = policy if policy is not None else Behaviour()
        pipelining = getattr(policy, "pipelining", False)
        self.handler = PolicyHandler(policy, pipelining, max_syntax_errors)
        ident = ident or getattr(policy, "ident", "mx.test ESMTP test")
        kwargs: dict = {}
        if tls is not None and implicit_tls:
            ssl_context = tls_context(*tls)
        else:
            ssl_context = None
            if tls is not None:
                kwargs["tls_context"] = tls_context(*tls)
                kwargs["require_starttls"] = False

        class _Controller(Controller):
            def factory(self):
                return SMTP(self.handler, ident=ident, hostname="mx.test", **kwargs)

        self.controller = _Controller(
            self.handler,
            hostname=address,
            port=port,
            ready_timeout=5,
            ssl_context=ssl_context,
            server_hostname="mx.test",
        )
        self.address, self.port = address, port

    def __enter__(self) -> SMTPTestServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def commands(self) -> list[str]:
        return self.handler.commands


class RawServer:
    """A TCP server whose every connection runs ``script(conn)`` in a thread.

    For servers that misbehave on purpose.  Connections are closed and the listener
    stopped on exit; scripts must end by themselves (their waits are bounded).
    """

    def __init__(self, address: str, port: int, script: Callable[[socket.socket], None]) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.script = script
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        for conn in self.connections:
            try:
                conn.close()
            except OSError:
                pass
        self.sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.script(conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def read_command(conn: socket.socket, timeout: float = 5.0) -> bytes:
    """Read one command line from a client (bounded in time and size)."""
    conn.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n") and len(data) < 4096:
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def scripted_smtp(
    banner: bytes = b"220 raw.test ESMTP\r\n",
    replies: dict[bytes, bytes] | None = None,
    delay: dict[bytes, float] | None = None,
    log: list[bytes] | None = None,
    close_after: dict[bytes, bytes] | None = None,
    timeout: float = 5.0,
) -> Callable[[socket.socket], None]:
    """A minimal SMTP server: ``replies`` maps a command verb to its reply bytes;
    ``close_after`` sends the given bytes for a verb, then hangs up; every read waits at
    most ``timeout``."""
    answers = {
        b"EHLO": b"250-raw.test\r\n250 PIPELINING\r\n",
        b"HELO": b"250 raw.test\r\n",
        b"MAIL": b"250 ok\r\n",
        b"RCPT": b"250 ok\r\n",
        b"RSET": b"250 ok\r\n",
        b"QUIT": b"221 bye\r\n",
        b"NOOP": b"250 ok\r\n",
    }
    answers.update(replies or {})
    delays = delay or {}

    cut = close_after or {}

    def script(conn: socket.socket) -> None:
        if banner:
            conn.sendall(banner)
        for _ in range(200):
            line = read_command(conn, timeout)
            if not line:
                return
            if log is not None:
                log.append(line)
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            if verb in delays:
                time.sleep(delays[verb])
            if verb in cut:
                conn.sendall(cut[verb])
                return
            conn.sendall(answers.get(verb, b"502 5.5.2 unknown command\r\n"))
            if verb == b"QUIT":
                return

    return script


def make_certificate(directory: Path, name: str = "mx.test") -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


# --------------------------------------------------------------------------- DNS

SERVFAIL = "SERVFAIL"
REFUSED = "REFUSED"
FORMERR = "FORMERR"
NXDOMAIN = "NXDOMAIN"
DROP = "DROP"


class ZoneResolver(BaseResolver):
    """Answers from a dict: ``name -> [(type, value), ...]`` or a failure marker.

    Types: "A", "AAAA", "MX" (value ``(preference, exchange)``), "CNAME", "CNAME-ONLY" (the
    CNAME answered alone, its target not chased, as a forwarder passes a server's answer
    on), "PTR", "TXT" (a string, or a list of strings: one record of several
    character-strings).  A name that
    exists but has no record of the asked type gets an empty NOERROR answer
    (NoAnswer); a name that is absent gets NXDOMAIN; the markers SERVFAIL, REFUSED,
    FORMERR, NXDOMAIN and DROP (no answer at all) force those.
    """

    def __init__(self, zone: dict[str, object]) -> None:
        self.zone = {k.lower().rstrip("."): v for k, v in zone.items()}
        self.queries: list[tuple[str, str]] = []

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply()
        qname = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        name = qname
        for _ in range(8):  # follow CNAMEs inside the zone, bounded
            records = self.zone.get(name)
            if records == DROP:
                return None  # type: ignore[return-value]  # dnslib sends nothing
            if records in (SERVFAIL, REFUSED, FORMERR):
                reply.header.rcode = getattr(RCODE, records)
                return reply
            if records is None or records == NXDOMAIN:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            alone = [v for t, v in records if t == "CNAME-ONLY"]  # type: ignore[union-attr]
            if alone and qtype != "CNAME":  # the CNAME alone, not chased (a forwarder's answer)
                reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(alone[0]), ttl=60))
                return reply
            cname = [v for t, v in records if t == "CNAME"]  # type: ignore[union-attr]
            if cname and qtype != "CNAME":
                reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(cname[0]), ttl=60))
                name = cname[0].lower().rstrip(".")
                continue
            for rtype, value in records:  # type: ignore[union-attr]
                if rtype != qtype:
                    continue
                if rtype == "A":
                    reply.add_answer(RR(name, QTYPE.A, rdata=A(value), ttl=60))
                elif rtype == "AAAA":
                    reply.add_answer(RR(name, QTYPE.AAAA, rdata=AAAA(value), ttl=60))
                elif rtype == "MX":
                    pref, exchange = value
                    reply.add_answer(RR(name, QTYPE.MX, rdata=MX(exchange, pref), ttl=60))
                elif rtype == "PTR":
                    reply.add_answer(RR(name, QTYPE.PTR, rdata=PTR(value), ttl=60))
                elif rtype == "TXT":
                    strings = [value] if isinstance(value, str) else list(value)
                    reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT([s.encode() for s in strings]), ttl=60))
            return reply
        return reply


class _QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


class DNSTestServer:
    """dnslib UDP+TCP server on 127.0.0.1:port serving a :class:`ZoneResolver`."""

    def __init__(self, zone: dict[str, object], port: int | None = None) -> None:
        self.port = port or free_port()
        self.resolver = ZoneResolver(zone)
        logger = _QuietLogger()
        self.udp = DNSServer(self.resolver, port=self.port, address="127.0.0.1", logger=logger)
        self.tcp = DNSServer(self.resolver, port=self.port, address="127.0.0.1", tcp=True, logger=logger)

    def __enter__(self) -> DNSTestServer:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.udp, self.tcp):
            server.server.shutdown()
            server.server.server_close()

    @property
    def args(self) -> list[str]:
        return ["--nameserver", "127.0.0.1", "--dns-port", str(self.port)]

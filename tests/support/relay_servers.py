"""Real SMTP servers (aiosmtpd on 127.0.0.1) that play the relays the checks meet.

Imported by the other ``test_nullmailer_*`` files; the tests here check the servers
themselves behave as their names say.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.support.servers import closed_port, free_port  # noqa: F401  (re-exported for the relay tests)

Policy = Callable[[str, str], str]  # (phase, address) -> reply, "" for the default


def _foreign(address: str, own: tuple[str, ...]) -> bool:
    domain = address.rpartition("@")[2].strip('<>"').lower()
    return (
        "@" not in address
        or domain not in own
        or address.count("@") > 1
        or "%" in address
        or "!" in address
        or address.startswith(('"', "@"))
    )


class Handler:
    """aiosmtpd handler driven by a policy; can play Exim's syntax-error limit."""

    def __init__(self, policy: Policy, max_syntax_errors: int = 0) -> None:
        self.policy = policy
        self.max_syntax_errors = max_syntax_errors
        self.commands: list[str] = []
        self.connections = 0

    def _syntax_error(self, server, session) -> str | None:
        count = getattr(session, "syntax_errors", 0) + 1
        session.syntax_errors = count
        if self.max_syntax_errors and count >= self.max_syntax_errors:
            asyncio.get_event_loop().call_soon(server.transport.close)
            return "550 Too many syntax or protocol errors"
        return None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.commands.append(f"MAIL {address}")
        reply = self.policy("mail", address)
        if reply.startswith("501"):
            return self._syntax_error(server, session) or reply
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append(f"RCPT {address}")
        reply = self.policy("rcpt", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 Accepted"

    async def handle_DATA(self, server, session, envelope):  # never reached by the checks
        self.commands.append("DATA")
        return "554 no DATA expected in these tests"


OWN = ("mx.test", "127.0.0.1", "[127.0.0.1]")


def open_relay(phase: str, address: str) -> str:
    return ""


def closed_relay(phase: str, address: str) -> str:
    """A correct null mailer that still listens: refuses relaying and inbound mail."""
    if phase == "rcpt":
        return f"554 5.7.1 <{address}>: Relay access denied"
    return ""


def postfix_default(phase: str, address: str) -> str:
    """Stock Postfix: defer_unauth_destination (454), mailbox for its own domain."""
    if phase == "rcpt":
        if not _foreign(address, OWN):
            return ""
        return f"454 4.7.1 <{address}>: Relay access denied"
    return ""


def auth_only(phase: str, address: str) -> str:
    if phase == "mail":
        return "530 5.7.0 Authentication required"
    return ""


def greylisting(phase: str, address: str) -> str:
    if phase == "rcpt":
        return f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, see http://postgrey.example/"
    return ""


def exim_like_open(phase: str, address: str) -> str:
    """Exim relaying for everyone, but IP-literal senders are a syntax error."""
    if phase == "mail" and "[" in address:
        return "501 <" + address + ">: domain literals not allowed"
    return ""


def make_tls_context(directory: str) -> ssl.SSLContext:
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=mx.test",
                "-keyout",
                key,
                "-out",
                cert,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@contextlib.contextmanager
def smtp_server(
    policy: Policy,
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    max_syntax_errors: int = 0,
    ident: str = "mx.test ESMTP test",
) -> Iterator[tuple[int, Handler]]:
    """An aiosmtpd server on 127.0.0.1 with ``policy``; yields (port, handler)."""
    handler = Handler(policy, max_syntax_errors)
    port = free_port()
    kwargs: dict = {"hostname": "127.0.0.1", "port": port, "ident": ident, "server_hostname": "mx.test"}
    if tls_context is not None and implicit_tls:
        kwargs["ssl_context"] = tls_context
    elif tls_context is not None:
        kwargs["tls_context"] = tls_context
    controller = Controller(handler, **kwargs)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def test_free_port_is_closed():
    port = closed_port()
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("policy", [open_relay, closed_relay, auth_only, greylisting])
def test_servers_start_and_stop(policy):
    with smtp_server(policy) as (port, _handler):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            assert sock.recv(100).startswith(b"220 mx.test")


# -- a small authoritative DNS server (dnslib) ------------------------------------------------


def dns_server(records: dict[tuple[str, str], list[str]]):
    """Start a UDP+TCP DNS server on 127.0.0.1 answering ``records``.

    ``records`` maps (name, type) to RDATA texts, e.g. ("example.com.", "MX") ->
    ["10 mx.example.com."]; a name with no records of any type is NXDOMAIN, a name
    with other types only answers NoAnswer.  Returns (server_udp, server_tcp, port).
    """
    import logging

    from dnslib import QTYPE, RCODE, RR
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    logging.getLogger("dnslib").setLevel(logging.ERROR)
    names = {name.lower() for name, _ in records}

    class Resolver(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            qname = str(request.q.qname).lower()
            qtype = QTYPE[request.q.qtype]
            for text in records.get((qname, qtype), []):
                reply.add_answer(*RR.fromZone(f"{qname} 60 IN {qtype} {text}"))
            if qname not in names:
                reply.header.rcode = RCODE.NXDOMAIN
            return reply

    port = free_port()
    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
    udp = DNSServer(Resolver(), port=port, address="127.0.0.1", logger=quiet)
    tcp = DNSServer(Resolver(), port=port, address="127.0.0.1", tcp=True, logger=quiet)
    udp.start_thread()
    tcp.start_thread()
    return udp, tcp, port


@contextlib.contextmanager
def dns_zone(records: dict[tuple[str, str], list[str]]) -> Iterator[int]:
    udp, tcp, port = dns_server(records)
    try:
        yield port
    finally:
        udp.stop()
        tcp.stop()


def write(root, path: str, text: str) -> None:
    """Write a configuration file under ``root``, dated a minute back: postconf waits
    (up to ~2 s) for a main.cf modified in the last seconds to settle."""
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text)
    past = time.time() - 60
    os.utime(full, (past, past))

"""Policies that make the tests' SMTP server play the relays the checks meet (open,
closed, stock Postfix, auth-only, greylisting, Exim-like), and files for --root trees."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.servers import (  # noqa: F401  (closed_port is re-exported for the relay tests)
    Policy,
    PolicyHandler,
    SMTPTestServer,
    closed_port,
    free_port,
    make_certificate,
)


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


def make_tls_context(directory: str) -> tuple[Path, Path]:
    """A certificate for mx.test in ``directory`` (made once): (cert, key)."""
    cert, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    return make_certificate(Path(directory))


@contextlib.contextmanager
def smtp_server(
    policy: Policy,
    *,
    tls_context: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
    max_syntax_errors: int = 0,
    ident: str = "mx.test ESMTP test",
) -> Iterator[tuple[int, PolicyHandler]]:
    """The SMTP test server on 127.0.0.1 with ``policy``; yields (port, handler)."""
    with SMTPTestServer(
        "127.0.0.1",
        free_port(),
        policy,
        tls_context,
        implicit_tls=implicit_tls,
        ident=ident,
        max_syntax_errors=max_syntax_errors,
    ) as server:
        yield server.port, server.handler


def write(root, path: str, text: str) -> None:
    """Write a configuration file under ``root``, dated a minute back: postconf waits
    (up to ~2 s) for a main.cf modified in the last seconds to settle."""
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text)
    past = time.time() - 60
    os.utime(full, (past, past))

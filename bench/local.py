"""Bench: ``check_nullmailer --local`` and what the strict receivers' sender checks add.

A dma null mailer (configuration tree under ``--root``) delivering directly, sending
as ``web1.pass.test`` from 192.0.2.30 (``--client-ip``: nothing is sent there); its
origin's MX accepts on loopback; the DNS responder answers every question ``delay``
late (a resolver one round trip away).  The callouts of the origin and of the fix's
domain need two round trips each (MX, then the host's address); the sender checks run
beside them (PTR then its name's address; TXT then what the SPF record names).

Run it from a checkout without the sender checks and from one with them to compare;
the same checkout gives both rows when ``--client-ip`` makes them run: without it the
host's own route source is used, which on a private network skips them ("cannot tell").
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.senders import SlowResolver
from tests.support.servers import DNSTestServer, SMTPTestServer, free_port

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ZONE: dict[str, object] = {
    "pass.test": [("MX", (10, "mx.pass.test")), ("TXT", "v=spf1 a:web1.pass.test mx -all")],
    "mx.pass.test": [("A", "127.0.0.1")],
    "web1.pass.test": [("A", "192.0.2.30"), ("MX", (10, "mx.pass.test")), ("TXT", "v=spf1 a -all")],
    "30.2.0.192.in-addr.arpa": [("PTR", "web1.pass.test")],
}


def tree(root: Path) -> None:
    (root / "etc/dma").mkdir(parents=True)
    (root / "etc/dma/dma.conf").write_text("MAILNAME web1.pass.test\n")
    (root / "var/spool/dma").mkdir(parents=True)


def bench_local(runs: int, measure: Callable, median: Callable, row: Callable, delay: float = 0.05) -> None:
    print(f"--local: dma, direct delivery, DNS +{delay * 1000:.0f} ms per question", flush=True)
    port = free_port()
    smtp = SMTPTestServer("127.0.0.1", port)
    with tempfile.TemporaryDirectory() as scratch, smtp, DNSTestServer(ZONE) as dns:
        root = Path(scratch)
        tree(root)
        slow = SlowResolver(ZONE)
        slow.delay = delay
        for server in (dns.udp, dns.tcp):
            server.server.resolver = slow
        base = [sys.executable, "-m", "check_nullmailer.plugin", "--local", "--root", str(root)]
        base += ["--mta", "dma", *dns.args, "-p", str(port), "-t", "20", "--client-ip", "192.0.2.30"]
        first = measure(base)
        print("  said:", first.output.splitlines()[0][:160], flush=True)
        walls = []
        for _ in range(runs):
            started = time.monotonic()
            walls.append(measure(base).wall)
            time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))
    row("--local (dma, direct, --client-ip, DNS +50 ms)", f"{median(walls) * 1000:.0f} ms")

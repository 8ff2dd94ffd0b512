"""Bench: what the sender checks (``--client-ip``) add to a check_callout run.

One sender whose callout is accepted on loopback; the DNS responder answers every
question ``delay`` late (a resolver that is one round trip away), so the callout's own
DNS costs two round trips (MX, then the MX host's address) and the sender checks' longest
chain (PTR, then the PTR name's address; TXT, then what the SPF record names) runs
beside it.  Target: the checks add at most about one DNS round trip.
"""

from __future__ import annotations

import os
import sys
import time

from tests.support.servers import DNSTestServer, SMTPTestServer, ZoneResolver, free_port

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ZONE: dict[str, object] = {
    "pass.test": [("MX", (10, "mx.pass.test")), ("TXT", "v=spf1 a:web1.pass.test mx -all")],
    "mx.pass.test": [("A", "127.0.0.1")],
    "web1.pass.test": [("A", "192.0.2.30"), ("TXT", "v=spf1 a -all")],
    "30.2.0.192.in-addr.arpa": [("PTR", "web1.pass.test")],
}


class SlowResolver(ZoneResolver):
    """Every answer ``delay`` seconds late (dnslib serves each question in a thread)."""

    delay = 0.0

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        time.sleep(self.delay)
        return super().resolve(request, handler)


def plugin() -> list[str]:
    beside = os.path.join(os.path.dirname(sys.executable), "check_callout")
    return [beside] if os.path.exists(beside) else [sys.executable, "-m", "check_callout.plugin"]


def bench_sender_checks(
    runs: int, measure: Callable, median: Callable, row: Callable, delay: float = 0.05
) -> None:
    print(f"sender checks: one accepted callout, DNS +{delay * 1000:.0f} ms per question", flush=True)
    port = free_port()
    with SMTPTestServer("127.0.0.1", port), DNSTestServer(ZONE) as dns:
        slow = SlowResolver(ZONE)
        slow.delay = delay
        for server in (dns.udp, dns.tcp):
            server.server.resolver = slow
        base = [*plugin(), "-s", "a@pass.test", "-p", str(port), *dns.args, "--allow-private", "-t", "20"]
        strict = [*base, "--client-ip", "192.0.2.30", "--helo-name", "web1.pass.test"]
        cases = {"without --client-ip": base, "with --client-ip": strict}
        for argv in cases.values():
            first = measure(argv)
            print("  said:", first.output.splitlines()[0][:140], flush=True)
        walls: dict[str, list[float]] = {name: [] for name in cases}
        checks: list[float] = []
        for _ in range(runs):
            for name, argv in cases.items():
                sample = measure(argv)
                walls[name].append(sample.wall)
                if name == "with --client-ip":
                    perf = dict(
                        i.split("=", 1) for i in sample.output.split("\n")[0].split(" | ", 1)[1].split()
                    )
                    checks.append(float(perf["sender_checks"].split("s")[0]))
    without, with_ = median(walls["without --client-ip"]), median(walls["with --client-ip"])
    row("sender checks: check_callout without --client-ip", f"{without * 1000:.0f} ms")
    row("sender checks: check_callout with --client-ip", f"{with_ * 1000:.0f} ms")
    added = with_ - without
    row(
        "sender checks: added wall time",
        f"{added * 1000:.0f} ms = {added / delay:.1f} DNS round trips",
        "<= ~1 RTT",
        added <= delay * 1.5,
    )
    row("sender checks: their own time (perfdata sender_checks)", f"{median(checks) * 1000:.0f} ms")

#!/usr/bin/env python3
"""Benchmarks for check_callout; prints a table (medians) and the machine it ran on.

    python -m bench.run [--runs N] [--only cold,latency,senders,cpu,sender_checks,local]

Everything runs on loopback: the bench starts its own DNS and SMTP servers (the test
helpers in tests/support/servers.py) and, for latency, delaying TCP proxies in front of them.
Standard library plus the project and its test helpers only.

1. cold     whole-process wall time and peak RSS of check_callout against a closed port,
            next to monitoring-plugins' check_smtp and ``python3 -c pass``
2. latency  a domain with 4 MX hosts, each behind a proxy adding 300 ms to every
            server-to-client segment: one check_callout run vs the same hosts probed one
            after another, as Exim does
3. senders  200 senders over 20 domains in one run vs 200 single runs
4. cpu      user+sys CPU of one normal accepted callout (DNS + SMTP)
5. sender_checks  check_callout with and without --client-ip, DNS 50 ms away (bench/senders.py)
6. local    check_nullmailer --local (dma, direct delivery), DNS 50 ms away (bench/local.py)
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from check_callout.probe import ProbeSettings, run_dialogue
from check_callout.receivers.postfix import double_bounce
from tests.support.hostile import measure as hostile_measure
from tests.support.servers import Behaviour, DNSTestServer, SMTPTestServer, free_port

ROOT = Path(__file__).resolve().parent.parent  # run as `python -m bench.run` from here

PY = sys.executable
CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp"
DELAY = 0.300
TEMPFAIL = "451 4.7.1 Greylisted, try again later"


# --------------------------------------------------------------------------- measuring


class Sample:
    __slots__ = ("wall", "maxrss_kb", "cpu", "code", "output")

    def __init__(self, wall: float, maxrss_kb: int, cpu: float, code: int, output: str) -> None:
        self.wall, self.maxrss_kb, self.cpu, self.code, self.output = wall, maxrss_kb, cpu, code, output


def measure(argv: list[str], limit: float = 120.0) -> Sample:
    """Run ``argv`` once: wall time, peak RSS and user+sys CPU of that process alone
    (through the small fork/exec shim of tests/hostile.py, so the bench's own memory
    does not leak into the child's peak RSS)."""
    m = hostile_measure(argv, limit)
    return Sample(m.wall, m.maxrss_kb, m.cpu, m.code, m.stdout)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def console_script(name: str) -> str:
    """The installed console script next to this interpreter (not a shell shim)."""
    beside = Path(PY).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed (pip install -e .)")
    return found


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


# --------------------------------------------------------------------------- delaying proxy


class DelayProxy:
    """TCP proxy on ``listen``:``port`` to ``target``:``port``; every chunk the server
    sends reaches the client ``delay`` seconds later (order kept); client-to-server data
    passes at once.  So each SMTP round trip costs ``delay`` more, like a far-away host."""

    def __init__(self, listen: str, port: int, target: str, target_port: int, delay: float) -> None:
        self.listen, self.port, self.delay = listen, port, delay
        self.target, self.target_port = target, target_port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.base_events.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def feed() -> None:
            for _ in range(100_000):
                data = await reader.read(65536)
                await queue.put((self.loop.time() + delay, data))
                if not data:
                    return

        feeder = asyncio.ensure_future(feed())
        try:
            for _ in range(100_000):
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            feeder.cancel()
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target, self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer, 0.0),
            self._pipe(up_reader, writer, self.delay),
            return_exceptions=True,
        )

    def __enter__(self) -> DelayProxy:
        self.thread.start()
        start = asyncio.start_server(self._handle, self.listen, self.port)
        self.server = asyncio.run_coroutine_threadsafe(start, self.loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# --------------------------------------------------------------------------- benchmarks

ROWS: list[tuple[str, str, str, str]] = []  # measurement, result, target, met?


def row(what: str, result: str, target: str = "", met: bool | None = None) -> None:
    ROWS.append((what, result, target, "" if met is None else ("yes" if met else "NO")))
    print(
        f"  {what}: {result}" + (f"  (target {target}: {'met' if met else 'NOT met'})" if target else ""),
        flush=True,
    )


def bench_cold(runs: int) -> None:
    print("cold start", flush=True)
    port = free_port()  # nothing listens there: connection refused
    check_callout = console_script("check_callout")
    cases = {
        "python3 -c pass": [PY, "-c", "pass"],
        "python3 -S -c pass": [PY, "-S", "-c", "pass"],  # the interpreter without site-packages hooks
        "check_callout": [check_callout, "-H", "127.0.0.1", "-p", str(port), "-s", "a@b.test"],
    }
    if Path(CHECK_SMTP).exists():
        cases["check_smtp"] = [CHECK_SMTP, "-H", "127.0.0.1", "-p", str(port)]
    for argv in cases.values():  # warm the page cache
        measure(argv)
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so background noise hits every case alike
        for name, argv in cases.items():
            samples[name].append(measure(argv))
    walls = {name: median([s.wall for s in ss]) for name, ss in samples.items()}
    rss = {name: median([s.maxrss_kb for s in ss]) for name, ss in samples.items()}
    for name in cases:
        ratios = ", ".join(f"{walls[name] / walls[other]:.1f}x {other}" for other in cases if other != name)
        target = "<= 60 ms" if name == "check_callout" else ""
        met = walls[name] <= 0.060 if target else None
        row(f"cold start {name}", f"{walls[name] * 1000:.1f} ms ({ratios})", target, met)
    for name in cases:
        ratios = ", ".join(f"{rss[name] / rss[other]:.1f}x {other}" for other in cases if other != name)
        target = "<= 30 MB" if name == "check_callout" else ""
        met = rss[name] <= 30 * 1024 if target else None
        row(f"peak RSS {name}", f"{rss[name] / 1024:.1f} MiB ({ratios})", target, met)
    print("  check_callout said:", samples["check_callout"][0].output.splitlines()[0][:120], flush=True)


def start_lab(addresses: list[str], behaviours: list[Behaviour], delay: float) -> tuple[int, list, list]:
    """SMTP servers on 127.0.0.x, each behind a delaying proxy on the same address."""
    port, backend_port = free_port(addresses), free_port(addresses)
    servers, proxies = [], []
    for address, behaviour in zip(addresses, behaviours):
        server = SMTPTestServer(address, backend_port, behaviour)
        server.__enter__()
        servers.append(server)
        proxy = DelayProxy(address, port, address, backend_port, delay)
        proxy.__enter__()
        proxies.append(proxy)
    return port, servers, proxies


def stop_lab(servers: list, proxies: list) -> None:
    for proxy in proxies:
        proxy.__exit__()
    for server in servers:
        server.__exit__()


RCPT = "alice@far.test"
POSTFIX_Q = [(double_bounce("monitor.test"), RCPT)]


def bench_latency(runs: int) -> None:
    print(f"latency: 4 MX hosts, +{DELAY * 1000:.0f} ms per round trip each", flush=True)
    addresses = [f"127.0.0.{41 + i}" for i in range(4)]
    # MX 10-30 greylist (451: Exim moves on), MX 40 accepts: Exim needs all four.
    behaviours = [Behaviour(rcpt=TEMPFAIL)] * 3 + [Behaviour()]
    zone: dict[str, object] = {"far.test": [("MX", (10 * (i + 1), f"mx{i + 1}.far.test")) for i in range(4)]}
    for i, address in enumerate(addresses):
        zone[f"mx{i + 1}.far.test"] = [("A", address)]
    port, servers, proxies = start_lab(addresses, behaviours, DELAY)
    try:
        with DNSTestServer(zone) as dns:
            settings = ProbeSettings(port=port, helo="monitor.test", timeout=30, connect_timeout=5)
            singles: list[list[float]] = [[] for _ in addresses]
            sequential, parallel, decided, exim_only = [], [], [], []
            argv = [
                console_script("check_callout"),
                "-s",
                "alice@far.test",
                "-p",
                str(port),
                *dns.args,
                "--helo",
                "monitor.test",
                "--allow-private",
                "-t",
                "20",
            ]
            for _ in range(runs):
                start = time.monotonic()
                for i, address in enumerate(addresses):  # as Exim: one host after another
                    t = time.monotonic()
                    # the questions the plugin asks by default: Exim's (null sender) and
                    # Postfix's (its double-bounce sender), on one connection
                    run_dialogue(f"mx{i + 1}.far.test", address, [RCPT], settings, start + 60, also=POSTFIX_Q)
                    singles[i].append(time.monotonic() - t)
                sequential.append(time.monotonic() - start)
                sample = measure(argv)
                parallel.append(sample.wall)
                exim_only.append(measure([*argv, "--receiver", "exim"]).wall)
                perfdata = sample.output.split("\n")[0].split(" | ", 1)[1]
                perf = dict(item.split("=", 1) for item in perfdata.split())
                decided.append(float(perf["time"].split("s")[0]))
    finally:
        stop_lab(servers, proxies)
    slowest = max(median(s) for s in singles)
    row("latency single dialogue (slowest host)", f"{slowest * 1000:.0f} ms")
    row("latency 4 hosts one after another", f"{median(sequential) * 1000:.0f} ms")
    ratio = median(parallel) / slowest
    row(
        "latency check_callout whole process",
        f"{median(parallel) * 1000:.0f} ms = {ratio:.2f}x slowest dialogue",
        "<= 1.2x",
        ratio <= 1.2,
    )
    row("latency check_callout deciding dialogue (perfdata time)", f"{median(decided) * 1000:.0f} ms")
    row("latency check_callout --receiver exim (no Postfix question)", f"{median(exim_only) * 1000:.0f} ms")


def bench_senders(runs: int, delay: float) -> None:
    print(f"many senders: 200 senders over 20 domains, +{delay * 1000:.0f} ms per round trip", flush=True)
    addresses = [f"127.0.0.{51 + i}" for i in range(5)]  # 5 MX hosts, 4 domains each
    zone: dict[str, object] = {}
    for d in range(20):
        zone[f"d{d:02d}.test"] = [("MX", (10, f"mx{d % 5}.hosting.test"))]
    for i, address in enumerate(addresses):
        zone[f"mx{i}.hosting.test"] = [("A", address)]
    senders = [f"user{u:02d}@d{d:02d}.test" for d in range(20) for u in range(10)]
    # PIPELINING offered, as Postfix and Exim do by default
    port, servers, proxies = start_lab(addresses, [Behaviour(pipelining=True) for _ in addresses], delay)
    try:
        with DNSTestServer(zone) as dns:
            base = [
                console_script("check_callout"),
                "-p",
                str(port),
                *dns.args,
                "--helo",
                "monitor.test",
                "--allow-private",
                "-t",
                "60",
            ]
            many_argv = base + [arg for s in senders for arg in ("-s", s)]
            one_run, singles = [], []
            for _ in range(runs):
                for server in servers:
                    server.commands.clear()
                dns.resolver.queries.clear()
                sample = measure(many_argv)
                one_run.append(sample.wall)
                connections = sum(c.startswith(("EHLO", "HELO")) for s in servers for c in s.commands)
                rcpts = sum(c.startswith("RCPT") for s in servers for c in s.commands)
                queries = len(dns.resolver.queries)
                if sample.code != 0:  # every sender accepted (--allow-private: loopback hosts)
                    raise RuntimeError(sample.output[:500])
            start = time.monotonic()
            for sender in senders:
                singles.append(measure(base + ["-s", sender]).wall)
            all_singles = time.monotonic() - start
    finally:
        stop_lab(servers, proxies)
    single = median(singles)
    ratio = median(one_run) / single
    tag = f" (+{delay * 1000:.0f} ms RTT)"
    row(f"senders single run, median of 200{tag}", f"{single * 1000:.0f} ms")
    row(f"senders 200 single runs, total{tag}", f"{all_singles:.1f} s")
    row(
        f"senders one run with 200 senders{tag}",
        f"{median(one_run) * 1000:.0f} ms = {ratio:.2f}x a single run",
        "<= 2x",
        ratio <= 2.0,
    )
    row(
        f"senders reuse in the one run{tag}",
        f"{connections} SMTP connections, {rcpts} RCPT, {queries} DNS queries for 20 domains on 5 hosts",
    )


def bench_cpu(runs: int) -> None:
    print("CPU per check: one accepted callout (DNS + SMTP, no TLS)", flush=True)
    address = "127.0.0.61"
    port = free_port([address])
    zone = {"ok.test": [("MX", (10, "mx.ok.test"))], "mx.ok.test": [("A", address)]}
    with SMTPTestServer(address, port), DNSTestServer(zone) as dns:
        argv = [
            console_script("check_callout"),
            "-s",
            "alice@ok.test",
            "-p",
            str(port),
            *dns.args,
            "--helo",
            "monitor.test",
            "--allow-private",
        ]
        measure(argv)
        samples = [measure(argv) for _ in range(runs)]
    if any(s.code != 0 for s in samples):
        raise RuntimeError(samples[0].output[:500])
    cpu = median([s.cpu for s in samples])
    wall = median([s.wall for s in samples])
    row(
        "CPU per accepted callout (user+sys)",
        f"{cpu * 1000:.0f} ms; wall {wall * 1000:.0f} ms; "
        f"peak RSS {median([s.maxrss_kb for s in samples]) / 1024:.1f} MiB; "
        f"~{int(60 / cpu)} checks/min per core",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median; >= 5)")
    parser.add_argument("--only", default="cold,latency,senders,cpu")
    parser.add_argument(
        "--sender-delay",
        type=float,
        default=0.0,
        help="extra round trip (s) for the many-senders bench (default 0: loopback)",
    )
    args = parser.parse_args()
    runs = max(5, min(args.runs, 101))
    # An installed package is byte-compiled; an editable checkout may not be yet.
    compileall.compile_dir(str(ROOT / "check_callout"), quiet=1)
    print(f"machine: {machine()}\nruns per measurement: {runs} (medians)\n", flush=True)
    only = set(args.only.split(","))
    if "cold" in only:
        bench_cold(runs)
    if "latency" in only:
        bench_latency(runs)
    if "senders" in only:
        bench_senders(runs, args.sender_delay)
    if "cpu" in only:
        bench_cpu(runs)
    if "sender_checks" in only:
        from bench.senders import bench_sender_checks

        bench_sender_checks(runs, measure, median, row)
    if "local" in only:
        from bench.local import bench_local

        bench_local(runs, measure, median, row)
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'measurement':{width}}  {'median':48}  {'target':9}  met")
    for what, result, target, met in ROWS:
        print(f"{what:{width}}  {result:48}  {target:9}  {met}")
    print(f"\nmachine: {machine()}")


if __name__ == "__main__":
    main()

"""The remote audit (``-H``): every SMTP port asked is closed, or open and relaying for
nobody (the relay battery of :mod:`check_nullmailer.relay`).

:class:`RemoteAudit` measures (one :class:`PortReport` per port); :class:`RelayContext`
judges each port with :func:`check_nullmailer.relay_verdict.judge_port`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nagiosplugin

from check_callout.kit.result import Finding
from check_callout.kit.states import to_nagios
from check_callout.kit.text import sanitize
from check_nullmailer.contexts import Problem
from check_nullmailer.settings import Settings

NAME = "NULLMAILER"


@dataclass
class PortReport:
    """What one port answered: its batteries (plain, then STARTTLS; or implicit TLS)."""

    port: int
    batteries: list[Any]  # relay.Battery
    expect_closed: bool = False
    allow_inbound: bool = False
    transcript: list[str] = field(default_factory=list)  # with -vv


class RemoteAudit(nagiosplugin.Resource):
    """Measures: connects to each port, runs the relay battery where one is open."""

    def __init__(self, settings: Settings, deadline: float) -> None:
        self.settings = settings
        self.deadline = deadline
        host = settings.hostname or ""
        from check_callout.address import is_ip

        self.own_name = "" if is_ip(host) else host.rstrip(".").lower()

    @property
    def name(self) -> str:
        return NAME

    def _resolve(self) -> str:
        import socket

        from check_callout.address import is_ip
        from check_callout.kit.parallel import run_parallel

        host = self.settings.hostname or ""
        if is_ip(host):
            return host
        families = self.settings.families or ()
        family = {(4,): socket.AF_INET, (6,): socket.AF_INET6}.get(families, socket.AF_UNSPEC)

        def lookup() -> str:
            infos = socket.getaddrinfo(host, 25, family, socket.SOCK_STREAM)
            return str(infos[0][4][0])

        result = run_parallel({"a": lookup}, self.deadline)["a"]
        if isinstance(result, BaseException):
            raise LookupError(f"cannot resolve {host}: {result}")
        return result

    def _port(self, address: str, port: int) -> PortReport:
        from check_nullmailer.relay import run_battery

        s = self.settings
        report = PortReport(port, [], s.expect_closed, s.allow_inbound)
        common = dict(
            helo=s.helo, deadline=self.deadline, relay_to=s.relay_to, own_name=self.own_name,
            timeout=s.step, connect_timeout=s.connect_timeout,
            transcript=report.transcript if s.verbose >= 2 else None,
        )  # fmt: skip
        if port == 465:
            report.batteries.append(run_battery(address, port, mode="TLS", **common))
        else:
            first = run_battery(address, port, mode="plain", **common)
            report.batteries.append(first)
            if first.listening and first.starttls_offered and s.starttls and not s.expect_closed:
                report.batteries.append(run_battery(address, port, mode="STARTTLS", **common))
        return report

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.kit.parallel import run_parallel
        from check_nullmailer.relay import RELAYED, UNTESTED

        try:
            address = self._resolve()
        except LookupError as exc:
            yield nagiosplugin.Metric("target", Problem(sanitize(str(exc), 160)), context="problem")
            return
        ports = self.settings.ports
        jobs = {port: (lambda port=port: self._port(address, port)) for port in ports}
        finished = run_parallel(jobs, self.deadline, workers=len(jobs))
        reports: list[PortReport] = []
        for port in ports:
            value = finished[port]
            if isinstance(value, PortReport):
                reports.append(value)
                yield nagiosplugin.Metric(f"port {port}", value, context="relay")
            else:
                yield nagiosplugin.Metric(
                    f"port {port}", Problem(f"port {port}: {sanitize(str(value), 160)}"), context="problem"
                )
        tests = [t for r in reports for b in r.batteries for t in b.tests]
        open_ports = sum(1 for r in reports if r.batteries and r.batteries[0].listening)
        yield nagiosplugin.Metric("open_ports", open_ports, min=0, context="perf")
        yield nagiosplugin.Metric(
            "relay_tests", sum(1 for t in tests if t.outcome != UNTESTED), min=0, context="perf"
        )
        yield nagiosplugin.Metric(
            "relay_accepted", sum(1 for t in tests if t.outcome == RELAYED), min=0, context="perf"
        )


class RelayContext(nagiosplugin.Context):
    """Judges one port; the verdict's detail lines travel on the result."""

    def __init__(self) -> None:
        super().__init__("relay", result_cls=Finding)

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Finding:
        from check_nullmailer.relay_verdict import judge_port

        report: PortReport = metric.value
        verdict = judge_port(
            report.batteries, expect_closed=report.expect_closed, allow_inbound=report.allow_inbound
        )
        return Finding(to_nagios(verdict.state), verdict.summary, metric, verdict.details)

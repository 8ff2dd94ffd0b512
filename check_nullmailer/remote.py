"""The remote audit (``-H``): every SMTP port asked is closed, or open and relaying for
nobody (the relay battery of :mod:`check_nullmailer.relay`).

:class:`RemoteAudit` measures (one :class:`PortReport` per address and port: a name's
every address, IPv6 and IPv4 alike, since mail may reach either); :class:`RelayContext`
judges each with :func:`check_nullmailer.relay_verdict.judge_port`, the worst deciding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nagiosplugin

from check_callout.kit.result import Finding
from check_callout.kit.states import OK, to_nagios
from check_callout.kit.text import sanitize
from check_nullmailer.contexts import Problem
from check_nullmailer.settings import Settings

NAME = "NULLMAILER"
MAX_ADDRESSES = 8  # addresses of one name audited
CLEAR_TEXT_465 = (
    "port 465 speaks clear-text SMTP, not implicit TLS (RFC 8314): tested in clear text; "
    "clients that expect TLS there cannot talk to it"
)


@dataclass
class PortReport:
    """What one port answered: its batteries (plain, then STARTTLS; or implicit TLS)."""

    port: int
    batteries: list[Any]  # relay.Battery
    expect_closed: bool = False
    allow_inbound: bool = False
    transcript: list[str] = field(default_factory=list)  # with -vv
    address: str = ""
    label: str = ""  # the address, when the name has several: said before the verdict
    filtered_closed: bool = True  # a port that does not answer counts as closed


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

    def _resolve(self) -> list[str]:
        """Every address of the name (the system's resolver: /etc/hosts, then DNS), in
        getaddrinfo's order; an address given is itself."""
        import socket

        from check_callout.address import is_ip
        from check_callout.kit.parallel import run_parallel

        host = self.settings.hostname or ""
        if is_ip(host):
            return [host]
        families = self.settings.families or ()
        family = {(4,): socket.AF_INET, (6,): socket.AF_INET6}.get(families, socket.AF_UNSPEC)

        def lookup() -> list[str]:
            infos = socket.getaddrinfo(host, 25, family, socket.SOCK_STREAM)
            return list(dict.fromkeys(str(info[4][0]) for info in infos))

        result = run_parallel({"a": lookup}, self.deadline)["a"]
        if isinstance(result, BaseException):
            raise LookupError(f"cannot resolve {host}: {result}")
        return result

    def _port(self, address: str, port: int) -> PortReport:
        from check_nullmailer.relay import run_battery

        s = self.settings
        report = PortReport(port, [], s.expect_closed, s.allow_inbound, address=address)
        common = dict(
            helo=s.helo, deadline=self.deadline, relay_to=s.relay_to, own_name=self.own_name,
            timeout=s.step, connect_timeout=s.connect_timeout,
            transcript=report.transcript if s.verbose >= 2 else None,
        )  # fmt: skip
        if port == 465:
            tls = run_battery(address, port, mode="TLS", **common)
            if tls.problem_kind == "tls":
                # the handshake failed: a server that greets in clear text is still an SMTP
                # server that may relay, so it is asked in clear text
                plain = run_battery(address, port, mode="clear text", **common)
                if plain.listening and plain.banner:
                    plain.note = CLEAR_TEXT_465
                    tls = plain
            report.batteries.append(tls)
        else:
            first = run_battery(address, port, mode="plain", **common)
            report.batteries.append(first)
            if first.listening and first.starttls_offered and s.starttls and not s.expect_closed:
                report.batteries.append(run_battery(address, port, mode="STARTTLS", **common))
        return report

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.kit.parallel import run_parallel
        from check_nullmailer.relay_forms import RELAYED, UNTESTED

        try:
            addresses = self._resolve()
        except LookupError as exc:
            yield nagiosplugin.Metric("target", Problem(sanitize(str(exc), 160)), context="problem")
            return
        skipped = addresses[MAX_ADDRESSES:]
        addresses = addresses[:MAX_ADDRESSES]
        several = len(addresses) > 1
        ports = self.settings.ports
        jobs = {
            (address, port): (lambda address=address, port=port: self._port(address, port))
            for address in addresses
            for port in ports
        }
        finished = run_parallel(jobs, self.deadline, workers=min(16, len(jobs)))
        reports: list[PortReport] = [v for v in finished.values() if isinstance(v, PortReport)]
        for address in addresses:
            # a port that never answers is closed only if another port of the same
            # address answered (or the user says filtered means closed): when nothing
            # answers at all, the check is blind
            mine = [r for r in reports if r.address == address]
            answered = any(
                r.batteries and (r.batteries[0].listening or r.batteries[0].closed_kind == "refused")
                for r in mine
            )
            for report in mine:
                report.filtered_closed = answered or self.settings.filtered_closed
                report.label = address if several else ""
        for address, port in jobs:
            where = f"{address} port {port}" if several else f"port {port}"
            value = finished[(address, port)]
            if isinstance(value, PortReport):
                yield nagiosplugin.Metric(where, value, context="relay")
            else:
                yield nagiosplugin.Metric(
                    where, Problem(f"{where}: {sanitize(str(value), 160)}"), context="problem"
                )
        if skipped:
            yield nagiosplugin.Metric(
                "addresses",
                Problem(f"{len(skipped)} more addresses of {self.settings.hostname} not audited", OK),
                context="problem",
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
            report.batteries,
            expect_closed=report.expect_closed,
            allow_inbound=report.allow_inbound,
            filtered_closed=report.filtered_closed,
        )
        summary = f"{report.label}: {verdict.summary}" if report.label else verdict.summary
        return Finding(to_nagios(verdict.state), summary, metric, verdict.details)

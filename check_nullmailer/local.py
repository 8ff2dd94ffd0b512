"""The local audit (``--local``), measured on the null mailer itself: listening
sockets, the MTA's configuration, the envelope origin's callouts, and the queue.

:class:`LocalAudit` only measures; the contexts of :mod:`check_nullmailer.local_judge`
judge what it hands over (typed values: :class:`ExposureReport`,
:class:`OriginReport`, the queue's :class:`~check_nullmailer.mta.base.QueueReport`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nagiosplugin

from check_callout.kit.states import CRITICAL, UNKNOWN, WARNING
from check_callout.kit.text import sanitize
from check_nullmailer.contexts import Problem
from check_nullmailer.settings import Settings

NAME = "NULLMAILER"


@dataclass
class ExposureReport:
    listeners: list[Any]  # exposure.Listener, all SMTP ports
    public: list[Any]
    info: Any  # mta.base.MTAInfo or None
    allow_listen: bool = False
    proc_error: str = ""


@dataclass
class OriginReport:
    info: Any  # mta.base.MTAInfo
    origin: str
    origin_text: str
    result: Any  # engine.SenderResult for the sender
    alternative: Any = None  # engine.SenderResult for postmaster@<suggested domain>
    notes: list[str] = field(default_factory=list)
    strict: Any = None  # strict.StrictReport: the strict receivers' sender checks


@dataclass
class QueueUnread:
    """The queue was not read: no MTA, or its tool's own reason."""

    reason: str  # empty when no MTA was found
    # it could not be read (a CouldNotRead): never OK, whatever the reason's words
    unreadable: bool = False


LOCAL_SHARE = 0.25  # of the run, kept for reading the queue after the callouts
LOCAL_MIN = 1.0  # seconds, when the run is long enough to give them


def local_share(total: float) -> float:
    """Seconds of a ``total``-second run kept for the local reads after the callouts:
    a quarter, at least 1 s, at most half."""
    return min(max(LOCAL_MIN, LOCAL_SHARE * total), total / 2)


def suggested_domain(origin_domain: str) -> str:
    """The domain a fix would use: the origin's parent, when it is not a bare TLD."""
    parent = origin_domain.partition(".")[2]
    if parent.count(".") < 1:
        return ""
    return parent


class LocalAudit(nagiosplugin.Resource):
    """Measures on the null mailer itself: sockets, configuration, callouts, queue."""

    def __init__(self, settings: Settings, deadline: float) -> None:
        self.settings = settings
        self.deadline = deadline
        # Each part has its own share of the run and is abandoned when it is used up
        # (a file on a hung mount, a tool that hangs): the configuration is read by the
        # first share, the callouts end early enough for the queue to be read.  A dead
        # resolver, a tarpit MX or a hung file may use up its own part's time, never the
        # other parts' time, and the parts that were seen keep their verdicts.
        now = time.monotonic()
        share = local_share(deadline - now)
        self.config_deadline = now + share
        self.callout_deadline = deadline - share
        self.config_unread = ""  # why the configuration was not read in its share
        self.root = settings.root
        self.mta = ""
        self.queue: Any = None  # mta.base.QueueReport once read

    @property
    def name(self) -> str:
        return NAME

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        info = yield from self._mta()
        yield from self._exposure(info)
        egress = self._egress(info)
        yield from self._origin(info, egress)
        if egress is not None:
            yield nagiosplugin.Metric("egress", egress, context="egress")
        yield from self._queue()

    def _mta(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.kit.parallel import Unfinished
        from check_nullmailer import mta as mtas

        s = self.settings
        others: list[str] = []
        name = s.mta
        if name == "auto" and s.postfix_config:
            name = "postfix"
        elif name == "auto" and s.exim_config:
            name = "exim"
        if name == "auto":
            try:
                name, others = mtas.detect(self.root)
            except mtas.NoMTA as exc:
                name = ""
                if not s.origin:
                    yield nagiosplugin.Metric("mta", Problem(str(exc)), context="problem")
        self.mta = name
        if not name:
            return None
        read = lambda: mtas.read_config(  # noqa: E731
            name, self.root, postfix_config=s.postfix_config, exim_config=s.exim_config,
            deadline=self.config_deadline,
        )  # fmt: skip
        info = _within(read, self.config_deadline)
        if isinstance(info, BaseException) and not isinstance(info, Unfinished):
            raise info
        if isinstance(info, Unfinished):
            label = mtas.LABELS.get(name, name)
            self.config_unread = f"could not read {label}'s configuration: {_why(info)}"
            problem = Problem(f"{self.config_unread}; its relay settings and origin not judged", WARNING)
            yield nagiosplugin.Metric("config", problem, context="problem")
            return None
        if others:
            left = ", ".join(mtas.LABELS[o] for o in others)
            info.notes.append(f"also on disk, not trusted (not behind /usr/sbin/sendmail): {left}")
        return info

    def _exposure(self, info: Any) -> Iterator[nagiosplugin.Metric]:
        from check_nullmailer import exposure
        from check_nullmailer.host import under

        proc = under(self.root, "/proc")
        if not os.path.exists(os.path.join(proc, "net", "tcp")):
            proc = "/proc"
        report = ExposureReport([], [], info, self.settings.allow_listen)
        looked = exposure.SMTP_PORTS
        if info is not None:  # the ports of the configuration's own services too (2525, ...)
            looked += tuple(sorted({s.port for s in info.services if s.port is not None} - set(looked)))
        try:
            report.listeners = exposure.listeners(proc, looked)
            report.public = exposure.public(report.listeners)
        except exposure.ProcUnreadable as exc:
            report.proc_error = sanitize(str(exc), 160)
        yield nagiosplugin.Metric("exposure", report, context="exposure")
        ports = len({item.port for item in report.public})
        yield nagiosplugin.Metric("open_ports", ports, min=0, context="perf")

    def _origin(self, info: Any, egress: Any = None) -> Iterator[nagiosplugin.Metric]:
        from check_callout.address import AddressError, domain_address, parse_address

        s = self.settings
        if s.origin:
            domain, text = s.origin.rstrip(".").lower(), f"--origin {s.origin}"
        elif info is not None and info.refuses:
            problem = Problem(f"{info.label} {info.refuses}", CRITICAL)
            yield nagiosplugin.Metric("origin", problem, context="problem")
            return
        elif info is not None and info.origin:
            domain, text = info.origin, info.origin_text
        elif info is None:
            return  # no MTA, or its configuration not read: already reported
        else:
            why = "; ".join(info.notes) if info.notes else "no setting found"
            # A file that could not be read whole (a FIFO, a hung mount, too large) is
            # WARNING, as for the queue: an UNKNOWN would outrank an open relay found by
            # another part.  A file closed to this user stays UNKNOWN, with the grant.
            # A missing file stays UNKNOWN too (the MTA's own reader is what is wrong).
            cut = [
                u for u in info.unread if not getattr(u, "denied", True) and not getattr(u, "missing", True)
            ]
            state = WARNING if cut and len(cut) == len(info.unread) else UNKNOWN
            problem = Problem(f"cannot tell the envelope origin of {info.label}: {why}", state)
            yield nagiosplugin.Metric("origin", problem, context="problem")
            return
        try:
            sender = parse_address(s.sender) if s.sender else domain_address(domain)
        except AddressError as exc:
            yield nagiosplugin.Metric("origin", Problem(f"envelope origin {text}: {exc}"), context="problem")
            return
        senders = [sender]
        alt_domain = suggested_domain(domain)
        if alt_domain:
            try:
                senders.append(domain_address(alt_domain))
            except AddressError:
                pass
        results, strict = self._callouts_and_checks(senders, egress, info)
        report = OriginReport(info, domain, text, results[0], results[1] if len(results) > 1 else None)
        report.strict = strict
        yield nagiosplugin.Metric("origin", report, context="origin")
        if strict is not None:
            yield nagiosplugin.Metric("senders", strict, context="strict")

    def _callouts_and_checks(self, senders: list[Any], egress: Any, info: Any) -> tuple[list[Any], Any]:
        """The callouts and, beside them, the strict receivers' sender checks for the
        origin's sender and the fix's domain (one DNS round trip more, not a sequence)."""
        from check_callout.engine import run_callouts
        from check_callout.kit.parallel import Unfinished, run_parallel
        from check_nullmailer import strict as strict_checks

        s = self.settings
        until = self.callout_deadline
        jobs: dict[str, Any] = {"callouts": lambda: run_callouts(senders, s.callout, until)}
        report = None
        if egress is not None:
            plan = strict_checks.plan(egress, s.client_ips)
            addresses = [f"{a.local}@{a.domain}" for a in senders]
            report = strict_checks.StrictReport(egress, plan, addresses[0])
            if len(addresses) > 1:
                report.alt_domain = senders[1].domain
            if not plan.blind:
                from check_callout.senders import lookup_for

                # one DNS for both senders: the clients' PTR and the HELO name are asked once
                lookup = lookup_for(s.nameserver, s.dns_port, until)
                for key, address in zip(("checks", "alt_checks"), addresses):
                    jobs[key] = lambda a=address: strict_checks.run_checks(
                        plan, a, s.nameserver, s.dns_port, until, lookup
                    )
        done = run_parallel(jobs, self.deadline, workers=len(jobs))
        results = done["callouts"]
        if isinstance(results, BaseException):
            raise results
        if report is not None:
            for key in ("checks", "alt_checks"):
                value = done.get(key)
                if isinstance(value, BaseException) and not isinstance(value, Unfinished):
                    raise value
                if isinstance(value, Unfinished):
                    report.plan.blind = (
                        report.plan.blind or f"the sender checks did not finish ({_why(value)})"
                    )
                elif value is not None:
                    setattr(report, key, value)
            alt = results[1] if len(results) > 1 else None
            strict_checks.finish(report, info.mta if info is not None else "", results[0], alt)
        return results, report

    def _egress(self, info: Any) -> Any:
        """How the mail leaves (route, HELO name, source addresses; no traffic), read
        within the configuration's share of the run; None when nothing is sent."""
        from check_callout.kit.parallel import Unfinished
        from check_nullmailer.mta.base import Sources
        from check_nullmailer.mta.egress import Egress, read_egress
        from check_nullmailer.mta.egress_source import Lookup, fill_sources

        if info is None or info.refuses.startswith("sends nothing"):
            return None  # no MTA, or one that sends nothing: there is no egress to describe
        s = self.settings
        src = Sources(self.root, s.postfix_config, s.exim_config, self.config_deadline)
        lookup = Lookup(s.nameserver, s.dns_port, self.root, self.config_deadline)
        egress = _within(
            lambda: fill_sources(read_egress(info, src), s.client_ips, lookup), self.config_deadline
        )
        if isinstance(egress, Unfinished):
            egress = Egress(info.mta, notes=[f"how the mail leaves was not read: {_why(egress)}"])
        elif isinstance(egress, BaseException):
            raise egress
        return egress

    def _queue(self) -> Iterator[nagiosplugin.Metric]:
        from check_callout.kit.files import CouldNotRead
        from check_callout.kit.parallel import Unfinished
        from check_nullmailer import mta as mtas
        from check_nullmailer.mta.base import QueueUnavailable

        s = self.settings
        if not self.mta:
            yield nagiosplugin.Metric("queue", QueueUnread(""), context="queue_unread")
            return
        read = lambda: mtas.read_queue(  # noqa: E731
            self.mta, self.root, postfix_config=s.postfix_config, exim_config=s.exim_config,
            deadline=self.deadline, sudo=s.sudo,
        )  # fmt: skip
        queue = _within(read, self.deadline)
        if isinstance(queue, QueueUnavailable):
            unread = QueueUnread(str(queue), isinstance(queue, CouldNotRead))
            yield nagiosplugin.Metric("queue", unread, context="queue_unread")
            return
        if isinstance(queue, BaseException) and not isinstance(queue, Unfinished):
            raise queue
        if isinstance(queue, Unfinished):
            yield nagiosplugin.Metric("queue", QueueUnread(_why(queue), True), context="queue_unread")
            return
        self.queue = queue
        yield nagiosplugin.Metric("deferred", queue.deferred, min=0, context="deferred")
        if queue.callout_deferred is not None:
            yield nagiosplugin.Metric("callout_deferred", queue, min=0, context="callout_deferred")
        yield nagiosplugin.Metric("oldest_deferred", round(queue.oldest_deferred), "s", min=0, context="perf")


def _within(job: Any, until: float) -> Any:
    """``job()``'s value or exception, or ``Unfinished`` when it is still running at
    ``until`` (it is then left behind in a daemon thread)."""
    from check_callout.kit.parallel import run_parallel

    return run_parallel({0: job}, until, workers=1)[0]


def _why(exc: BaseException) -> str:
    return "no answer within its share of the check's time (a hung mount or tool?)"

"""What every MTA module hands back, and the interface each one fills in.

- :class:`MTAInfo`     what one MTA's configuration says (origin, listeners, relaying);
- :class:`QueueReport` what its queue holds (deferred, deferred by callouts);
- :class:`Sources`     where to read (``--root``, ``--postfix-config``, ``--exim-config``)
  and until when;
- :class:`MTA`         one MTA: its name and label, how to recognise it, its two
  readers, the fix to suggest and the requeue hint.

Value objects in ``check_nullmailer`` are dataclasses: this plugin reads files and runs
commands, and its start-up is not dominated by imports the way check_callout's is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from check_callout.kit.files import CouldNotRead
from check_callout.kit.text import sanitize

# relay states, from the configuration
RELAY_NONE = "none"  # relays only for local submitters (loopback) or authenticated users
RELAY_NETWORKS = "networks"  # relays for listed networks beyond this host
RELAY_OPEN = "open"  # relays for everyone
RELAY_UNKNOWN = "unknown"

# what receivers say when sender verification did not succeed
CALLOUT_RE = re.compile(
    r"sender verif|callout|unverified (?:sender )?address|sender address verification|verification failed",
    re.IGNORECASE,
)
MAX_MESSAGES = 100_000  # queue entries parsed

# Fixing the origin does not help mail already queued: it keeps its envelope sender.
REQUEUE_GENERIC = "queued mail keeps its old envelope sender: after the fix it must be resubmitted"


@dataclass
class ServiceInfo:
    """One SMTP server of the MTA's configuration (a Postfix master.cf service)."""

    name: str  # how the configuration names it, with where: "0.0.0.0:2525 (master.cf line 3)"
    port: int | None  # None: a service name this host's services list does not know
    addresses: tuple[str, ...]  # where it listens: its host part, or inet_interfaces
    public: bool  # listens beyond loopback
    relay: str = RELAY_UNKNOWN
    relay_text: str = ""
    fatal: str = ""  # the server exits at start instead: what the MTA then does
    plain: bool = False  # main.cf alone decides (no host part, no overrides)

    def serves(self, address: str, port: int) -> bool:
        """Whether a listening socket ``address:port`` can be this service's."""
        if self.port is not None and self.port != port:
            return False
        wildcards = ("all", "0.0.0.0", "::", "*", address)
        return any(word in wildcards or not _is_ip(word) for word in self.addresses)


def _is_ip(word: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(word)
    except ValueError:
        return False
    return True


@dataclass
class MTAInfo:
    """What one MTA's configuration says; unknown values are ``None``."""

    mta: str
    origin: str | None = None  # the domain of locally generated envelope senders
    origin_text: str = ""  # how it was derived, in the MTA's own words
    listens: bool | None = None  # whether the configuration runs an SMTP listener
    listen_public: bool | None = None  # ... on a non-loopback address
    listen_text: str = ""
    relay: str = RELAY_UNKNOWN
    relay_text: str = ""
    notes: list[str] = field(default_factory=list)  # skipped parts and problems
    # the files (kit.files.CouldNotRead) that could not be read whole, also in notes
    unread: list[Exception] = field(default_factory=list)
    config: str = ""  # the directory or file that was read
    # Set when the MTA will send nothing (or no usable sender) with this configuration:
    # "sends nothing: <the MTA's own reason>; <the fix>" (or "sends MAIL FROM:<user@>
    # with no domain: ..."), read after the label.  The origin is then not judged.
    refuses: str = ""
    # the settings as read (the MTA's own names, expanded), for the egress readers
    values: dict[str, str] = field(default_factory=dict)
    tool: str = ""  # the MTA's own tool that was asked (postconf, exim), if any
    # The SMTP servers one by one (Postfix: its master.cf services), and what of the
    # configuration could not be read ("could not read ...: why"): never judged OK.
    services: list[ServiceInfo] = field(default_factory=list)
    services_unread: str = ""

    @property
    def label(self) -> str:
        from check_nullmailer.mta import LABELS

        return LABELS.get(self.mta, self.mta)


def no_listener(info: MTAInfo) -> None:
    """Mark a send-only MTA that has no SMTP server at all."""
    info.listens = False
    info.listen_public = False
    info.listen_text = f"{info.label} has no SMTP server"
    info.relay = RELAY_NONE
    info.relay_text = "cannot relay (no SMTP server)"


def optional_word(info: MTAInfo, path: str) -> str | None:
    """The first word of an optional file (``/etc/mailname``-style): None when it is
    absent.  One that is there but cannot be read whole (closed, a FIFO, too large, on a
    hung mount) is named in ``info`` and raises its CouldNotRead: the caller must not
    fall back to another source as if the file were absent."""
    from check_nullmailer.access import unreadable
    from check_nullmailer.host import first_word

    try:
        return first_word(path)
    except OSError as exc:
        if getattr(exc, "missing", isinstance(exc, FileNotFoundError)):
            return None
        info.notes.append(unreadable(path, exc))
        info.unread.append(exc)
        raise


@dataclass
class QueuedMessage:
    """One queued message; ``reasons`` are the deferral texts (may be empty)."""

    queue_id: str
    queue: str
    sender: str
    age: float | None = None  # seconds since arrival
    reasons: list[str] = field(default_factory=list)
    frozen: bool = False

    @property
    def deferred(self) -> bool:
        return self.queue == "deferred"

    @property
    def callout(self) -> bool:
        return any(CALLOUT_RE.search(reason) for reason in self.reasons)


@dataclass
class QueueReport:
    """Counts for the plugin; ``callout_deferred`` is None when reasons are not kept."""

    source: str
    messages: int = 0
    deferred: int = 0
    callout_deferred: int | None = 0
    oldest_deferred: float = 0.0  # age in seconds of the oldest deferred message
    oldest_callout: float = 0.0
    examples: list[str] = field(default_factory=list)  # a few callout deferral texts
    notes: list[str] = field(default_factory=list)
    capped: bool = False  # reading stopped at MAX_MESSAGES: the counts are lower bounds


class QueueUnavailable(Exception):
    """The queue was not read: by design (a foreign ``--root``), said but not judged, or
    because it could not be (:class:`QueueUnreadable`)."""


class QueueUnreadable(QueueUnavailable, CouldNotRead):
    """The queue could not be read (tool missing, hanging or failing, mail system down,
    no permission, a listing that does not parse): never OK."""

    def __init__(self, why: str, what: str = "the queue") -> None:
        CouldNotRead.__init__(self, what, why)
        self.args = (why,)

    def __str__(self) -> str:
        return self.why


def summarize(messages: Iterable[QueuedMessage], source: str, reasons_known: bool = True) -> QueueReport:
    tally = Tally(source, reasons_known)
    for msg in messages:
        tally.add(msg)
    return tally.report


class Tally:
    """A queue report counted one message at a time (a big queue is never held whole)."""

    def __init__(self, source: str, reasons_known: bool = True) -> None:
        self.report = QueueReport(source)
        self.reasons_known = reasons_known
        if not reasons_known:
            self.report.callout_deferred = None

    def add(self, msg: QueuedMessage) -> None:
        report = self.report
        report.messages += 1
        if not msg.deferred:
            return
        report.deferred += 1
        report.oldest_deferred = max(report.oldest_deferred, msg.age or 0.0)
        if self.reasons_known and msg.callout:
            report.callout_deferred = (report.callout_deferred or 0) + 1
            report.oldest_callout = max(report.oldest_callout, msg.age or 0.0)
            reason = next(r for r in msg.reasons if CALLOUT_RE.search(r))
            if len(report.examples) < 3:
                report.examples.append(
                    f"{msg.queue_id} from <{sanitize(msg.sender, 80)}>: {sanitize(reason, 160)}"
                )


@dataclass(frozen=True)
class Sources:
    """Where the local audit reads (from the command line) and until when."""

    root: str = "/"
    postfix_config: str | None = None
    exim_config: str | None = None
    deadline: float | None = None
    sudo: bool = False  # run the read-only queue listing through sudo -n (--sudo)


def no_queue(name: str) -> QueueReport:
    """The report of an MTA that has no queue: it delivers while the sender waits."""
    report = QueueReport(f"{name} (no queue)", callout_deferred=0)
    report.notes.append(
        f"{name} has no queue: it delivers while the sender waits, and a deferral (451) is "
        "the submitting program's error (its sendmail exits non-zero), never queued here"
    )
    return report


@dataclass(frozen=True)
class MTA:
    """One MTA behind the interface the local audit uses."""

    name: str
    label: str
    markers: tuple[str, ...]  # files whose presence says it is configured
    sendmail_hint: str  # a word of the path /usr/sbin/sendmail resolves to
    read_config: Callable[[Sources], MTAInfo]
    read_queue: Callable[[Sources], QueueReport]
    fix: str  # the origin fix, a template with {alt} (the suggested domain)
    requeue: str = REQUEUE_GENERIC

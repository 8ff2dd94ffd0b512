"""check_callout's settings: one frozen value, built and validated once from the
command line, with every default in one place (:mod:`check_callout.kit.cli` for the
options both plugins share).

Value objects in ``check_callout`` are ``namedtuple`` (frozen) or small ``__slots__``
classes, never ``dataclasses``: importing ``dataclasses`` pulls in ``inspect`` and
``typing``, and this plugin's start-up is paid on every check of every host
(tests/test_startup.py keeps it so).

- :class:`CalloutSettings`  what the callout engine needs (DNS, SMTP, which recipients);
  the probe's view (:class:`check_callout.probe.ProbeSettings`) is derived from it;
- :class:`Policy`           how strict the judging is;
- :class:`Settings`         the whole check: senders, the two above, thresholds, -t, -v.
"""

from __future__ import annotations

import socket
from collections import namedtuple

from check_callout.kit.cli import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DNS_PORT,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    FAMILIES,
)
from check_callout.kit.states import OK, WARNING
from check_callout.receivers import DEFAULT_RECEIVERS, STRICT_RECEIVERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from check_callout.probe import ProbeSettings

MAX_HOSTS = 10  # MX hosts probed per domain (--max-hosts)


class CalloutSettings(
    namedtuple(
        "CalloutSettings",
        "port helo mail_from starttls timeout connect_timeout nameserver dns_port families max_hosts "
        "host random postmaster transcript receivers postfix_sender",
        defaults=(
            DEFAULT_PORT,
            "localhost",
            "",
            True,
            DEFAULT_TIMEOUT,
            DEFAULT_CONNECT_TIMEOUT,
            None,
            DEFAULT_DNS_PORT,
            FAMILIES,
            MAX_HOSTS,
            None,
            False,
            False,
            False,
            DEFAULT_RECEIVERS,
            "",
        ),
    )
):
    """Everything a callout run needs; defaults match Exim's callout.

    ``timeout`` bounds each SMTP response, ``connect_timeout`` each connect; ``host``
    probes that host instead of the MX hosts; ``families`` orders and filters address
    families; ``random``/``postmaster`` add those recipients; ``receivers`` names the
    receiver profiles to predict (the first decides); ``postfix_sender`` is the domain (or
    address) of Postfix's probe sender, ``double-bounce@`` the HELO name when empty.
    """

    __slots__ = ()

    @property
    def probe(self) -> ProbeSettings:
        """The SMTP part, as :func:`check_callout.probe.run_dialogue` takes it."""
        from check_callout.probe import ProbeSettings

        return ProbeSettings._make(getattr(self, name) for name in ProbeSettings._fields)


class Policy(
    namedtuple(
        "Policy",
        "implicit_mx accept_all private postmaster degraded explicit_host blind_family",
        defaults=(WARNING, WARNING, WARNING, WARNING, WARNING, False, OK),
    )
):
    """How strict to be about things that are not failures (each a state 0-3).

    ``explicit_host``: the user chose the host (-H), its address is not judged;
    ``blind_family``: an address of a family this host cannot reach at all (OK, a note).
    """

    __slots__ = ()


class SenderCheckSettings(namedtuple("SenderCheckSettings", "clients helo null_sender")):
    """The sender checks (``--client-ip``, ``--helo-name``): the client addresses the
    mail leaves from, the HELO name it sends, and whether the null sender ``<>`` is
    checked too (it has no callout: its SPF identity is the HELO name)."""

    __slots__ = ()


class Settings(
    namedtuple(
        "Settings", "senders callout policy warning critical timeout verbose sender_checks", defaults=(None,)
    )
):
    """The whole check, as the command line asked for it (``sender_checks`` None:
    no ``--client-ip``, the sender checks are not run)."""

    __slots__ = ()


OWN_NAME_WAIT = 1.0  # seconds at most for this host's own name (then the stated default)


def default_helo(timeout: float = 10.0) -> str:
    """This host's fully qualified name, for EHLO when ``--helo`` is not given.

    The host name when it has a dot (no lookup); otherwise the resolver's fully
    qualified name for it, looked up for at most ``OWN_NAME_WAIT`` s and a tenth of
    ``-t``: with the system resolver down ``getfqdn()`` blocks ~10 s.  A lookup that is
    slow or finds nothing leaves the stated default, the host name as it is (or
    ``localhost`` when it has none): the check's time is for the callouts.
    """
    from check_callout.kit.parallel import call_within

    name = socket.gethostname()
    if "." not in name:
        wait = min(OWN_NAME_WAIT, timeout / 10)
        name = call_within(lambda: socket.getfqdn(name), wait, name)
    return name or "localhost"


def from_arguments(args: object) -> Settings:
    """Validate the parsed command line once and freeze it; raises UsageError."""
    from check_callout.address import AddressError, domain_address, parse_address, to_ascii_domain
    from check_callout.kit.cli import check_nameserver
    from check_callout.kit.errors import UsageError
    from check_callout.kit.states import BY_NAME

    a = args
    null_sender = any(s.strip() == "<>" for s in a.sender)
    sender_checks = _sender_checks(a, null_sender)
    if null_sender:
        a.sender = [s for s in a.sender if s.strip() != "<>"]
    if not a.sender and not a.domain and not null_sender:
        raise UsageError("give at least one sender (-s ADDRESS) or domain (-d DOMAIN)")
    if a.max_hosts < 1 or a.max_hosts > 100:
        raise UsageError("--max-hosts must be between 1 and 100")
    try:
        senders = tuple([parse_address(s) for s in a.sender] + [domain_address(d) for d in a.domain])
        # the null sender, also written as the help shows it; an address without its <>
        mail_from = "" if a.mail_from.strip() in ("<>", "") else str(parse_address(a.mail_from))
        if a.helo is not None:
            to_ascii_domain(a.helo)
        if a.postfix_sender:
            if "@" in a.postfix_sender:
                parse_address(a.postfix_sender)
            else:
                to_ascii_domain(a.postfix_sender)
    except AddressError as exc:
        raise UsageError(str(exc)) from None
    if a.hostname is not None and not a.hostname.strip():
        raise UsageError("empty host name (-H)")
    check_nameserver(a.nameserver)
    callout = CalloutSettings(
        port=a.port,
        helo=a.helo or default_helo(a.timeout),
        mail_from=mail_from,
        starttls=a.starttls,
        timeout=min(DEFAULT_TIMEOUT, a.timeout),
        connect_timeout=a.connect_timeout,
        nameserver=a.nameserver,
        dns_port=a.dns_port,
        families=a.families or FAMILIES,
        max_hosts=a.max_hosts,
        host=a.hostname,
        random=a.random,
        postmaster=a.postmaster,
        transcript=a.verbose >= 2,
        receivers=tuple(dict.fromkeys(a.receiver))
        or (STRICT_RECEIVERS if sender_checks is not None else DEFAULT_RECEIVERS),
        postfix_sender=a.postfix_sender or "",
    )
    policy = Policy(
        implicit_mx=BY_NAME[a.implicit_mx],
        private=OK if a.allow_private else WARNING,
        explicit_host=bool(a.hostname),
        blind_family=BY_NAME[a.unreachable_family],
    )
    return Settings(senders, callout, policy, a.warning, a.critical, a.timeout, a.verbose, sender_checks)


def _sender_checks(a: object, null_sender: bool) -> SenderCheckSettings | None:
    """``--client-ip`` and ``--helo-name`` (given together), or None; raises UsageError."""
    from check_callout.address import AddressError, is_ip, to_ascii_domain
    from check_callout.kit.errors import UsageError
    from check_callout.receivers import STRICT_PROFILES

    clients = list(dict.fromkeys(c.strip() for c in a.client_ip))
    helo = (a.helo_name or "").strip()
    strict = [r for r in a.receiver if r in STRICT_PROFILES]
    if not clients:
        if a.helo_name is not None:
            raise UsageError("--helo-name needs --client-ip: the address the mail leaves from")
        if null_sender:
            raise UsageError("the null sender -s '<>' needs --client-ip and --helo-name: it has no callout")
        if strict:
            raise UsageError(f"--receiver {strict[0]} needs --client-ip and --helo-name (its sender checks)")
        return None
    bad = [c for c in clients if not is_ip(c) or "%" in c]
    if bad:
        raise UsageError(f"--client-ip {bad[0][:60]!r} is not an IP address")
    if not helo:
        raise UsageError("--client-ip needs --helo-name: the name the mail's sender says in EHLO")
    if not helo.startswith("["):
        try:
            to_ascii_domain(helo.replace("_", "-"))  # an underscore is judged, not refused
        except AddressError as exc:
            raise UsageError(f"--helo-name: {exc}") from None
    from check_callout.kit.text import sanitize

    if sanitize(helo, 255) != helo or " " in helo:
        raise UsageError("--helo-name: not a host name")
    import ipaddress

    clients = list(dict.fromkeys(str(ipaddress.ip_address(c)) for c in clients))  # as DNS answers write it
    return SenderCheckSettings(tuple(clients), helo, null_sender)

"""check_nullmailer's settings: one frozen value, built and validated once from the
command line; the callouts of the local audit get their
:class:`~check_callout.settings.CalloutSettings` derived from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from check_callout.kit.cli import DEFAULT_TIMEOUT, FAMILIES
from check_callout.settings import CalloutSettings

DEFAULT_PORTS = (25,)
QUEUE_WARNING = "10"  # deferred messages
QUEUE_CRITICAL = "50"


@dataclass(frozen=True)
class Settings:
    """The whole check, as the command line asked for it."""

    hostname: str | None  # -H: the remote audit; None: --local
    ports: tuple[int, ...]
    expect_closed: bool
    filtered_closed: bool
    relay_to: str
    allow_inbound: bool
    families: tuple[int, ...] | None
    mta: str
    postfix_config: str | None
    exim_config: str | None
    root: str
    allow_listen: bool
    sudo: bool  # the read-only queue listing through sudo -n
    origin: str | None
    sender: str | None
    queue_warning: str
    queue_critical: str
    nameserver: str | None
    dns_port: int
    port: int
    helo: str
    starttls: bool
    timeout: float
    connect_timeout: float
    verbose: int
    client_ips: tuple[str, ...] = ()  # --client-ip: the public addresses mail leaves from

    @property
    def local(self) -> bool:
        return self.hostname is None

    @property
    def step(self) -> float:
        """The longest wait for one SMTP response."""
        return min(DEFAULT_TIMEOUT, self.timeout)

    @property
    def callout(self) -> CalloutSettings:
        """How the local audit runs its callouts."""
        return CalloutSettings(
            port=self.port, helo=self.helo, starttls=self.starttls, timeout=self.step,
            connect_timeout=self.connect_timeout, nameserver=self.nameserver, dns_port=self.dns_port,
            families=self.families or FAMILIES, transcript=self.verbose >= 2,
        )  # fmt: skip


def from_arguments(a: object) -> Settings:
    """Validate the parsed command line once and freeze it; raises UsageError."""
    from check_callout.address import AddressError, is_ip, parse_address, to_ascii_domain
    from check_callout.kit.cli import check_nameserver
    from check_callout.kit.errors import UsageError
    from check_callout.settings import default_helo

    if not a.hostname and not a.local:
        raise UsageError("give -H HOST (from outside) or --local (on the null mailer)")
    try:
        relay_to = to_ascii_domain(a.relay_to)
        origin = to_ascii_domain(a.origin) if a.origin else a.origin
        if a.sender:
            parse_address(a.sender)
        if a.helo:
            to_ascii_domain(a.helo)
        if a.hostname and not is_ip(a.hostname):
            to_ascii_domain(a.hostname)
    except AddressError as exc:
        raise UsageError(str(exc)) from None
    check_nameserver(a.nameserver)
    # as check_callout's --client-ip: the address receivers see, without a scope
    client_ips = tuple(dict.fromkeys(c.strip() for c in a.client_ip or ()))
    bad = [c for c in client_ips if not is_ip(c) or "%" in c]
    if bad:
        raise UsageError(f"--client-ip {bad[0][:60]!r} is not an IP address")
    if a.root and not os.path.isdir(a.root):
        raise UsageError(f"--root is not a directory: {a.root!r}")
    if a.postfix_config and not os.path.isdir(a.postfix_config):
        raise UsageError(f"--postfix-config is not a directory: {a.postfix_config!r}")
    if a.exim_config and not os.path.isfile(a.exim_config):
        raise UsageError(f"--exim-config is not a file: {a.exim_config!r}")
    return Settings(
        hostname=a.hostname or None, ports=a.ports, expect_closed=a.expect_closed,
        filtered_closed=a.filtered_closed, relay_to=relay_to,
        allow_inbound=a.allow_inbound, families=a.families, mta=a.mta, postfix_config=a.postfix_config,
        exim_config=a.exim_config, root=a.root or "/", allow_listen=a.allow_listen, sudo=a.sudo,
        origin=origin, sender=a.sender, queue_warning=a.queue_warning, queue_critical=a.queue_critical,
        nameserver=a.nameserver, dns_port=a.dns_port, port=a.port, helo=a.helo or default_helo(a.timeout),
        starttls=a.starttls, timeout=a.timeout, connect_timeout=a.connect_timeout, verbose=a.verbose,
        client_ips=client_ips,
    )  # fmt: skip

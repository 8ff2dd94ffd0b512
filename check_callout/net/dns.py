"""DNS: where would a receiver's callout go for a domain?

Looks up MX records (RFC 5321 section 5.1), the implicit MX on A/AAAA when there are
none, the null MX of RFC 7505, and every MX host's addresses. dnspython is imported
only when a run needs DNS.
"""

from __future__ import annotations

import threading
import time

from check_callout.address import is_ip
from check_callout.kit.parallel import run_parallel
from check_callout.kit.text import sanitize
from check_callout.net.routes import (
    DNS_ERROR,
    EXPLICIT,
    IMPLICIT,
    MX,
    NO_ADDRESS,
    NULL_MX,
    NXDOMAIN,
    MXHost,
    Route,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GLIBC_DEFAULT = "127.0.0.1"  # the resolver glibc asks when resolv.conf names none
RESOLV_CONF = "/etc/resolv.conf"


def resolv_conf_problem(path: str = RESOLV_CONF) -> str:
    """What is wrong with the system's resolver configuration, in words."""
    import os

    if not os.path.exists(path):
        return f"{path} is missing"
    from check_callout.kit.files import CouldNotRead, read_bytes

    try:  # the resolver reads it whole; one byte tells whether this user can read it
        read_bytes(path, limit=1, prefix=True)
    except CouldNotRead as exc:
        return f"{path} cannot be read ({exc.why})"
    return f"{path} names no nameserver"


def _server_text(nameserver: object) -> str:
    """A nameserver's address (dnspython 2.4+ keeps objects, written ``Do53:ADDR@PORT``
    in its error lists; older versions plain addresses)."""
    text = str(getattr(nameserver, "address", None) or nameserver)
    if text.startswith("Do53:"):
        text = text[len("Do53:") :]
        head, at, port = text.rpartition("@")
        text = head if at and port.isdigit() else text
    return text


class DNSFailure(Exception):
    """The resolver could not answer (SERVFAIL, REFUSED, timeout)."""


class _Lookup:
    """One address lookup, shared by every caller asking for the same name."""

    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: tuple[list[str], str] | None = None
        self.error: BaseException | None = None


class Resolver:
    """A small facade over dnspython with the plugin's deadline and families."""

    def __init__(
        self,
        nameserver: str | None = None,
        port: int = 53,
        families: tuple[int, ...] = (6, 4),
        timeout: float = 5.0,
    ) -> None:
        import dns.resolver  # imported here: a run without DNS does not pay for it

        self._dns = dns
        self.config_note = ""  # what is wrong with the system's resolver configuration
        if nameserver:
            self._resolver = dns.resolver.Resolver(configure=False)
            self._resolver.nameservers = [nameserver]
        else:
            try:
                self._resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                # glibc, and so the mail software on this host, then asks 127.0.0.1
                self._resolver = dns.resolver.Resolver(configure=False)
                self._resolver.nameservers = [GLIBC_DEFAULT]
                self.config_note = f"{resolv_conf_problem()}: glibc's default {GLIBC_DEFAULT} asked"
        self._resolver.port = port
        self._resolver.timeout = min(2.0, timeout)
        self._resolver.lifetime = timeout
        self.families = families
        self.timeout = timeout
        self._lock = threading.Lock()
        self._cache: dict[str, _Lookup] = {}

    def _query(self, name: str, rdtype: str, deadline: float) -> Any:
        """Return the answer's rrset, or None for NoAnswer; raise on NXDOMAIN/failure."""
        dns = self._dns
        left = deadline - time.monotonic()
        if left <= 0:
            raise DNSFailure(f"no time left to look up {rdtype} {name}")
        try:
            answer = self._resolver.resolve(
                name, rdtype, lifetime=min(self.timeout, left), search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            raise
        except dns.resolver.NoNameservers as exc:
            said = self._said(exc) or f"{self._servers()} could not answer"
            raise DNSFailure(self._failure(f"{rdtype} {name}: {said}")) from exc
        except dns.exception.Timeout as exc:
            waited = min(self.timeout, left)
            said = f"{self._servers()}: timeout (no answer within {waited:.1f} s)"
            raise DNSFailure(self._failure(f"{rdtype} {name}: {said}")) from exc
        except dns.exception.DNSException as exc:
            said = f"{self._servers()}: {sanitize(str(exc), 120)}"
            raise DNSFailure(self._failure(f"{rdtype} {name}: {said}")) from exc
        return answer.rrset

    def _servers(self) -> str:
        """``resolver 127.0.0.1 port 53`` (every server asked)."""
        port = self._resolver.port
        servers = ", ".join(f"{_server_text(ns)} port {port}" for ns in self._resolver.nameservers)
        return f"resolver {servers}" if servers else "no resolver"

    def _failure(self, text: str) -> str:
        """A failure's words; a broken resolver configuration first (the line may be cut)."""
        return f"{self.config_note} ({text})" if self.config_note else text

    @staticmethod
    def _said(exc: Exception) -> str:
        """What each server said: ``resolver 127.0.0.1 port 53 answered SERVFAIL``."""
        errors = getattr(exc, "kwargs", {}).get("errors") or []
        said: list[str] = []
        for error in errors:
            if not isinstance(error, tuple) or len(error) < 4:
                continue
            server, port, what = _server_text(error[0]), error[2], error[3]
            if isinstance(what, str):  # an rcode's name: SERVFAIL, REFUSED, FORMERR ...
                text = f"resolver {server} port {port} answered {what}"
            elif isinstance(what, ConnectionRefusedError):
                text = f"resolver {server} port {port}: refused (nothing listens there)"
            elif isinstance(what, OSError):
                text = f"resolver {server} port {port}: {what.strerror or type(what).__name__}"
            else:
                text = f"resolver {server} port {port}: {type(what).__name__} {what}".strip()
            if text not in said:
                said.append(sanitize(text, 120))
        return "; ".join(said[:3])

    def addresses(self, name: str, deadline: float) -> tuple[list[str], str]:
        """IPv6 then IPv4 addresses of ``name`` (as Exim orders them), and a note.

        Asked once per run: domains that share an MX host share its answer (a second
        caller waits for the first lookup instead of asking again).
        """
        key = name.lower().rstrip(".")
        with self._lock:
            entry = self._cache.get(key)
            owner = entry is None
            if entry is None:
                entry = self._cache[key] = _Lookup()
        if owner:
            try:
                entry.result = self._addresses(name, deadline)
            except BaseException as exc:  # handed to every caller of this name
                entry.error = exc
            finally:
                entry.done.set()
        elif not entry.done.wait(max(0.0, deadline - time.monotonic())):
            raise DNSFailure(f"no time left to look up {name}")
        if entry.error is not None:
            raise entry.error
        assert entry.result is not None
        return entry.result[0][:], entry.result[1]

    def _addresses(self, name: str, deadline: float) -> tuple[list[str], str]:
        dns = self._dns
        found: list[str] = []
        errors: list[str] = []
        for family, rdtype in ((6, "AAAA"), (4, "A")):
            if family not in self.families:
                continue
            try:
                rrset = self._query(name, rdtype, deadline)
            except dns.resolver.NXDOMAIN:
                return found, "host name does not exist (NXDOMAIN)"
            except DNSFailure as exc:
                errors.append(str(exc))
                continue
            if rrset is not None:
                found.extend(rr.address for rr in rrset)
        if errors and not found:
            raise DNSFailure("; ".join(errors))
        return found, "" if found else "host has no address record"

    def route(self, domain: str, deadline: float, max_hosts: int = 10) -> Route:
        """Where a callout for ``domain`` goes: MX, implicit MX, null MX or nowhere."""
        dns = self._dns
        start = time.monotonic()
        route = self._route(domain, deadline, max_hosts, dns)
        route.lookup_time = time.monotonic() - start
        return route

    def _route(self, domain: str, deadline: float, max_hosts: int, dns: Any) -> Route:
        try:
            rrset = self._query(domain, "MX", deadline)
        except dns.resolver.NXDOMAIN:
            return Route(domain, NXDOMAIN, detail=f"{domain} does not exist (NXDOMAIN)")
        except DNSFailure as exc:
            return Route(domain, DNS_ERROR, detail=f"cannot tell: {exc}")
        if rrset is None or len(rrset) == 0:
            return self._implicit(domain, deadline)
        records = sorted(((rr.preference, rr.exchange) for rr in rrset), key=lambda r: r[0])
        real = [(pref, name) for pref, name in records if name != dns.name.root]
        if not real:
            detail = f"{domain} publishes a null MX (RFC 7505): it accepts no mail"
            return Route(domain, NULL_MX, detail=detail)
        hosts = [
            MXHost(sanitize(name.to_text(omit_final_dot=True).lower(), 253), int(pref)) for pref, name in real
        ]
        skipped = max(0, len(hosts) - max_hosts)
        hosts = hosts[:max_hosts]
        self._fill_addresses(hosts, deadline)
        route = Route(domain, MX, hosts, skipped_hosts=skipped)
        if all(not h.addresses for h in hosts):
            if all(h.lookup_error for h in hosts):
                return Route(domain, DNS_ERROR, hosts, detail=f"cannot tell: {hosts[0].lookup_error}")
            route.status = NO_ADDRESS
            route.detail = "no MX host of the domain has an address"
        return route

    def _fill_addresses(self, hosts: list[MXHost], deadline: float) -> None:
        jobs = {}
        for index, host in enumerate(hosts):
            if is_ip(host.name):
                host.note = "MX target is an IP address, not a host name (RFC 5321 forbids it)"
                continue
            jobs[index] = lambda name=host.name: self.addresses(name, deadline)
        results = run_parallel(jobs, deadline, workers=8)
        for index, result in results.items():
            host = hosts[index]
            if isinstance(result, BaseException):
                host.lookup_error = sanitize(str(result), 160) or type(result).__name__
                host.note = f"address lookup failed: {host.lookup_error}"
            else:
                host.addresses, note = result
                host.note = host.note or note

    def _address_route(self, name: str, deadline: float, what: str) -> tuple[list[str], Route | None]:
        """``name``'s addresses, or the Route that says why there are none."""
        dns = self._dns
        try:
            addresses, _note = self.addresses(name, deadline)
        except dns.resolver.NXDOMAIN:
            return [], Route(name, NXDOMAIN, detail=f"{what} does not exist (NXDOMAIN)")
        except DNSFailure as exc:
            return [], Route(name, DNS_ERROR, detail=f"cannot tell: {exc}")
        return addresses, None

    def _implicit(self, domain: str, deadline: float) -> Route:
        addresses, failed = self._address_route(domain, deadline, domain)
        if failed is not None:
            return failed
        if not addresses:
            return Route(domain, NO_ADDRESS, detail=f"{domain} has no MX and no address record")
        host = MXHost(domain, 0, addresses, implicit=True, note="implicit MX (no MX record)")
        return Route(domain, IMPLICIT, [host], detail="no MX record: implicit MX on the domain's address")

    def host_route(self, host: str, deadline: float) -> Route:
        """A route to one named host (``-H``), skipping MX."""
        addresses, failed = self._address_route(host, deadline, f"host {host}")
        if failed is not None:
            return failed
        if not addresses:
            return Route(host, NO_ADDRESS, detail=f"host {host} has no address record")
        return Route(host, EXPLICIT, [MXHost(host, 0, addresses, note="host given with -H")])

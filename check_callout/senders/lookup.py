"""The DNS lookups the sender checks need (PTR, A/AAAA, MX, TXT), through the plugin's
resolver settings and within its deadline.

Every answer is a :class:`Found`: ``status`` is :data:`FOUND` (records), :data:`NONE`
(the name does not exist, or has no record of that type: NXDOMAIN or NODATA) or
:data:`UNKNOWN` (the resolver could not tell: SERVFAIL, REFUSED, timeout, no time
left).  A receiver treats the first two as a fact and the last as a temporary error,
so the checks keep them apart.  Answers are cached per :class:`Lookup` (one run), and
concurrent askers of the same question wait for the first one's answer.
"""

from __future__ import annotations

import threading
import time

from check_callout.kit.text import sanitize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FOUND = "found"
NONE = "none"
UNKNOWN = "unknown"
LOOP = "loop"  # a CNAME chain that comes back to itself (see Lookup.follow)
MAX_CNAMES = 8
MAX_TRY = 2.0  # seconds per try at one server, as the plugin's own DNS


class Found:
    """One lookup's answer: ``status``, the ``values`` (text: addresses, names, TXT
    strings joined), the raw ``records`` (dnspython rdata, for pyspf), ``detail`` (why
    none or unknown: ``NXDOMAIN``, ``no PTR record``, ``resolver 127.0.0.1 port 53
    answered SERVFAIL``) and ``canonical`` (the name the answer was found at, after
    CNAMEs)."""

    __slots__ = ("name", "rdtype", "status", "values", "records", "detail", "canonical")

    def __init__(
        self,
        name: str,
        rdtype: str,
        status: str,
        values: tuple[str, ...] = (),
        records: tuple[Any, ...] = (),
        detail: str = "",
        canonical: str = "",
    ) -> None:
        self.name = name
        self.rdtype = rdtype
        self.status = status
        self.values = values
        self.records = records
        self.detail = detail
        self.canonical = canonical or name

    def __repr__(self) -> str:
        return f"Found({self.rdtype} {self.name}: {self.status} {self.values!r} {self.detail!r})"

    @property
    def found(self) -> bool:
        return self.status == FOUND

    def words(self) -> str:
        """``A web1.good.test: 192.0.2.30``, ``PTR ...: none (NXDOMAIN)``, ``... cannot tell (...)``."""
        head = f"{self.rdtype} {self.name}"
        if self.status == FOUND:
            via = f" (via CNAME {self.canonical})" if self.canonical != self.name else ""
            more = f" (+{len(self.values) - 6} more)" if len(self.values) > 6 else ""
            return f"{head}: {', '.join(self.values[:6])}{more}{via}"
        if self.status == NONE:
            return f"{head}: none ({self.detail})"
        if self.status == LOOP:
            return f"{head}: {self.detail}"
        return f"{head}: cannot tell ({self.detail})"


def reverse_name(address: str) -> str:
    """``30.2.0.192.in-addr.arpa`` / the ip6.arpa name of an address."""
    import ipaddress

    return ipaddress.ip_address(address).reverse_pointer


class Lookup:
    """DNS for one run: ``nameserver``/``port`` as ``--nameserver``/``--dns-port`` (the
    system's resolver when ``nameserver`` is None) and an absolute ``deadline``
    (``time.monotonic()``) no lookup runs past."""

    def __init__(self, nameserver: str | None, port: int, deadline: float) -> None:
        self._nameserver = nameserver
        self._port = port
        self._made: Any = None  # (dns, resolver), made by the first question
        self.deadline = deadline
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[threading.Event, list[Found]]] = {}

    def _resolver(self) -> Any:
        """dnspython's resolver, made once (only a run with sender checks imports dnspython)."""
        with self._lock:
            if self._made is None:
                import dns.resolver

                if self._nameserver:
                    resolver = dns.resolver.Resolver(configure=False)
                    resolver.nameservers = [self._nameserver]
                else:
                    try:
                        resolver = dns.resolver.Resolver()
                    except dns.resolver.NoResolverConfiguration:
                        resolver = dns.resolver.Resolver(configure=False)
                        resolver.nameservers = ["127.0.0.1"]  # glibc's default, as the MTA asks
                resolver.port = self._port
                resolver.timeout = MAX_TRY
                self._made = (dns, resolver)
            return self._made[1]

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def servers(self) -> str:
        resolver = self._resolver()
        port = resolver.port
        return ", ".join(f"{getattr(ns, 'address', ns)} port {port}" for ns in resolver.nameservers)

    def ask(self, name: str, rdtype: str) -> Found:
        """``name``'s records of ``rdtype``; asked once per run."""
        key = (name.lower().rstrip("."), rdtype)
        with self._lock:
            entry = self._cache.get(key)
            owner = entry is None
            if entry is None:
                entry = self._cache[key] = (threading.Event(), [])
        done, box = entry
        if owner:
            try:
                box.append(self._ask(key[0], rdtype))
            finally:
                done.set()
        elif not done.wait(max(0.0, self.left())):
            return Found(key[0], rdtype, UNKNOWN, detail="no time left for the lookup")
        return box[0] if box else Found(key[0], rdtype, UNKNOWN, detail="the lookup failed")

    def follow(self, name: str, rdtype: str) -> Found:
        """``ask``, and when the answer is a CNAME without the records (a resolver that
        passes a server's answer on without chasing it), ask its target, and so on, at
        most :data:`MAX_CNAMES` times.  A chain that comes back to a name already asked
        is :data:`LOOP`: Exim's own CNAME following finds the loop and defers (451, seen
        on Exim 4.96 for a PTR name that is a CNAME loop)."""
        seen = [name.lower().rstrip(".")]
        found = self.ask(name, rdtype)
        for _ in range(MAX_CNAMES):
            if found.status != NONE or found.canonical == found.name or found.canonical in seen:
                break
            seen.append(found.canonical)
            found = self.ask(found.canonical, rdtype)
        if found.status == NONE and found.canonical != found.name and found.canonical in seen:
            chain = " -> ".join([*seen, found.canonical])
            return Found(name, rdtype, LOOP, detail=f"CNAME loop {chain}")
        if found.name != name.lower().rstrip("."):
            return Found(
                name, rdtype, found.status, found.values, found.records, found.detail, found.canonical
            )
        return found

    def addresses(self, name: str, families: tuple[str, ...] = ("AAAA", "A")) -> list[Found]:
        """The AAAA and A answers for ``name``, asked in parallel."""
        if len(families) == 1:
            return [self.ask(name, families[0])]
        from check_callout.kit.parallel import run_parallel

        jobs = {rdtype: (lambda rdtype=rdtype: self.ask(name, rdtype)) for rdtype in families}
        results = run_parallel(jobs, self.deadline, workers=len(jobs))
        found = []
        for rdtype in families:
            result = results[rdtype]
            if not isinstance(result, Found):
                result = Found(name, rdtype, UNKNOWN, detail="no answer before the check's time ran out")
            found.append(result)
        return found

    def _ask(self, name: str, rdtype: str) -> Found:
        resolver = self._resolver() if self.left() > 0.05 else None
        left = self.left()
        if resolver is None or left <= 0.05:
            return Found(name, rdtype, UNKNOWN, detail="no time left for the lookup")
        dns = self._made[0]
        try:
            answer = resolver.resolve(name, rdtype, lifetime=left, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Found(name, rdtype, NONE, detail="NXDOMAIN")
        except dns.resolver.NoNameservers as exc:
            return Found(name, rdtype, UNKNOWN, detail=self._said(exc))
        except dns.exception.Timeout:
            return Found(name, rdtype, UNKNOWN, detail=f"resolver {self.servers()}: timeout")
        except dns.name.NameTooLong:
            return Found(name, rdtype, NONE, detail="name too long")
        except dns.exception.DNSException as exc:
            # a CNAME loop, a malformed answer: the receiver cannot use it either
            text = sanitize(str(exc), 120) or type(exc).__name__
            return Found(name, rdtype, UNKNOWN, detail=f"resolver {self.servers()}: {text}")
        canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
        rrset = answer.rrset
        if rrset is None or len(rrset) == 0:
            return Found(name, rdtype, NONE, detail=f"no {rdtype} record", canonical=canonical)
        records = tuple(rrset)
        return Found(name, rdtype, FOUND, tuple(_text(r, rdtype) for r in records), records, "", canonical)

    def _said(self, exc: Exception) -> str:
        errors = getattr(exc, "kwargs", {}).get("errors") or []
        for error in errors:
            if isinstance(error, tuple) and len(error) >= 4 and isinstance(error[3], str):
                server = str(getattr(error[0], "address", error[0]))
                if server.startswith("Do53:"):
                    server = server[5:].rpartition("@")[0] or server
                return f"resolver {server} port {error[2]} answered {error[3]}"
        return f"resolver {self.servers()} could not answer"


def _text(record: Any, rdtype: str) -> str:
    if rdtype in ("A", "AAAA"):
        return str(record.address)
    if rdtype == "PTR":
        return sanitize(record.target.to_text(omit_final_dot=True).lower(), 253)
    if rdtype == "MX":
        return f"{record.preference} {sanitize(record.exchange.to_text(omit_final_dot=True).lower(), 253)}"
    if rdtype == "TXT":
        return sanitize(b"".join(record.strings).decode("utf-8", "replace"), 1000)
    return sanitize(record.to_text(), 500)

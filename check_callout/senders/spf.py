"""SPF (RFC 7208) as receivers evaluate it, from pyspf: the library under Debian's
``postfix-policyd-spf-python``, so what it answers is what policyd-spf sees.

pyspf looks DNS up through its module-level ``spf.DNSLookup``.  That function is
replaced, once, by a dispatcher that sends each thread's questions to the
:class:`~check_callout.senders.lookup.Lookup` the thread is evaluating with (the
plugin's ``--nameserver``, ``--dns-port`` and deadline); a thread without one gets
pyspf's own lookup.  So concurrent evaluations with different settings do not mix.

``import spf`` happens only inside :func:`evaluate`: a run that evaluates no SPF does
not pay for it.
"""

from __future__ import annotations

import threading
import time

from check_callout.kit.text import sanitize
from check_callout.senders.lookup import FOUND, UNKNOWN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from check_callout.senders.lookup import Lookup

PASS = "pass"
FAIL = "fail"
SOFTFAIL = "softfail"
NEUTRAL = "neutral"
NONE = "none"
PERMERROR = "permerror"
TEMPERROR = "temperror"
RESULTS = (PASS, FAIL, SOFTFAIL, NEUTRAL, NONE, PERMERROR, TEMPERROR)

_local = threading.local()
_install_lock = threading.Lock()
_installed: list[Any] = []  # pyspf's own DNSLookup, once replaced


class SPFResult:
    """One SPF evaluation: the ``identity`` checked (``mailfrom`` or ``helo``), the
    ``domain`` and ``sender`` it was checked for, the ``client`` address, the
    ``result`` (one of :data:`RESULTS`), pyspf's ``explanation``, the SPF ``records``
    published at the domain (empty: none) and the time it took."""

    __slots__ = ("identity", "domain", "sender", "client", "result", "explanation", "records", "took")

    def __init__(
        self,
        identity: str,
        domain: str,
        sender: str,
        client: str,
        result: str,
        explanation: str = "",
        records: tuple[str, ...] = (),
        took: float = 0.0,
    ) -> None:
        self.identity = identity
        self.domain = domain
        self.sender = sender
        self.client = client
        self.result = result
        self.explanation = explanation
        self.records = records
        self.took = took

    def __repr__(self) -> str:
        return f"SPFResult({self.identity} {self.domain} {self.client}: {self.result})"

    def record_words(self) -> str:
        """The record as seen: ``"v=spf1 mx -all"``; two records both; ``no SPF record``."""
        if not self.records:
            return "no SPF record"
        return " and ".join(f'"{r}"' for r in self.records)

    def words(self) -> str:
        """``SPF (MAIL FROM good.test) for 192.0.2.30: fail - "v=spf1 mx -all" (SPF fail - ...)``."""
        what = "MAIL FROM" if self.identity == "mailfrom" else "HELO"
        why = f" ({self.explanation})" if self.explanation and self.result != PASS else ""
        return f"SPF ({what} {self.domain}) for {self.client}: {self.result} - {self.record_words()}{why}"


def _dispatch(name: Any, qtype: str, strict: Any = True, timeout: float = 30) -> list[Any]:
    """pyspf's ``DNSLookup``, through the calling thread's :class:`Lookup`."""
    lookup = getattr(_local, "lookup", None)
    if lookup is None:
        return _installed[0](name, qtype, strict, timeout)
    import spf

    text = str(name)
    found = lookup.ask(text, qtype)
    if found.status == UNKNOWN:
        raise spf.TempError(f"DNS {found.detail}")
    if found.status != FOUND:
        return []
    key = (text, qtype)
    if qtype in ("A", "AAAA"):
        return [(key, r.address) for r in found.records]
    if qtype == "MX":
        return [(key, (r.preference, r.exchange)) for r in found.records]
    if qtype == "PTR":
        return [(key, r.target.to_text(True)) for r in found.records]
    if qtype in ("TXT", "SPF"):
        return [(key, r.strings) for r in found.records]
    return []


def _install() -> Any:
    """Import pyspf and put the dispatcher in place of its DNS lookup (once)."""
    import spf

    with _install_lock:
        if not _installed:
            _installed.append(spf.DNSLookup)
            spf.DNSLookup = _dispatch
    return spf


def evaluate(
    lookup: Lookup,
    client: str,
    sender: str,
    helo: str,
    *,
    identity: str = "mailfrom",
    void_limit: bool = True,
) -> SPFResult:
    """SPF for ``client`` sending as ``sender`` after ``HELO helo``.

    ``identity="helo"`` checks the HELO name (as ``postmaster@HELO``, the way
    policyd-spf does, and RFC 7208 2.3).  ``void_limit=False`` lifts RFC 7208's limit of
    two void lookups, which libspf2 (Exim's SPF) does not enforce.
    """
    spf = _install()
    if identity == "helo" or not sender:
        identity = "helo"
        sender = f"postmaster@{helo}"
    domain = sender.rpartition("@")[2].lower()
    query_class = spf.query if void_limit else _no_void_limit(spf)
    started = time.monotonic()
    _local.lookup = lookup
    try:
        query = query_class(i=client, s=sender, h=helo, querytime=max(0.1, lookup.left()))
        result, _code, explanation = query.check()
    except Exception as exc:  # pyspf on input it did not expect: the receiver's answer is unknown
        result, explanation = TEMPERROR, f"pyspf failed: {type(exc).__name__}: {exc}"
    finally:
        _local.lookup = None
    took = time.monotonic() - started
    result = result if result in RESULTS else TEMPERROR
    records = _records(lookup, domain)
    return SPFResult(identity, domain, sender, client, result, sanitize(str(explanation), 200), records, took)


def _records(lookup: Lookup, domain: str) -> tuple[str, ...]:
    """The SPF records at ``domain`` (asked already by pyspf: the answer is cached)."""
    if not domain or "." not in domain:
        return ()
    found = lookup.ask(domain, "TXT")
    return tuple(v for v in found.values if v.lower() == "v=spf1" or v.lower().startswith("v=spf1 "))


_classes: list[Any] = []


def _no_void_limit(spf: Any) -> Any:
    """A pyspf query that never counts void lookups (libspf2 has no such limit)."""
    with _install_lock:
        if not _classes:

            class NoVoidLimit(spf.query):  # type: ignore[name-defined,misc]
                void_lookups = property(lambda self: 0, lambda self, value: None)

            _classes.append(NoVoidLimit)
    return _classes[0]
